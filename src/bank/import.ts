/**
 * Imports a bank statement file into bank_statements / bank_lines, in one transaction: every line
 * of the file or none. Idempotent through the database: each line gets a key unique on its account
 * (bank_lines_key_unique), so the same file twice, or two overlapping files, store each line once.
 */
import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/driver.ts';
import { isValidIban, normaliseIban } from '../domain/identifiers.ts';
import type { Minor } from '../domain/money.ts';
import { validation } from '../errors.ts';
import type { CsvMapping } from '../formats/bank/csv.ts';
import { parseBankFile } from '../formats/bank/detect.ts';
import type { BankFormat, BankLine } from '../formats/bank/types.ts';
import { defineErrors, renderText, type Text } from '../i18n/index.ts';

/**
 * The organisation's accounts a statement can be of: its IBAN on record, and the IBANs its earlier
 * statements were of (distinct).
 */
async function organisationAccounts(db: Db, orgId: string): Promise<string[]> {
  const rows = await db.query<{ iban: string }>(
    `SELECT iban FROM organisations WHERE id = $1 AND iban IS NOT NULL
     UNION SELECT DISTINCT account_iban FROM bank_statements WHERE organisation_id = $1 AND account_iban IS NOT NULL`,
    [orgId],
  );
  return [...new Set(rows.map((r) => r.iban))].sort();
}

const E = defineErrors('bank-import', {
  account_iban: { fr: "le compte « {account} » n’est pas un IBAN valide", en: "the account \"{account}\" is not a valid IBAN" },
  other_account: { fr: "le fichier est un relevé du compte {iban}, pas de {wanted}", en: "the file is a statement of account {iban}, not {wanted}" },
  no_account: { fr: "le fichier n’indique pas à quel compte il se rapporte et l’organisation a plusieurs comptes ({accounts}) : indiquez l’IBAN du compte du relevé", en: "the file does not say which account it is for and the organisation has several accounts ({accounts}): give the IBAN of the statement's account" },
  no_account_known: { fr: "le fichier n’indique pas à quel compte il se rapporte et l’organisation n’a pas d’IBAN enregistré : indiquez l’IBAN du compte du relevé (ou enregistrez-le dans les paramètres)", en: "the file does not say which account it is for and the organisation has no IBAN on record: give the IBAN of the statement's account (or record it in the settings)" },
});

const W = defineErrors('bank-import-warnings', {
  account_assumed: { fr: "le fichier n’indique pas son compte : {iban}, le seul compte de l’organisation, est pris", en: "the file does not say its account: {iban}, the organisation's only account, is used" },
});

export interface ImportOptions {
  filename?: string;
  /** The organisation's account the file belongs to; checked against the file when it names one. */
  account?: string;
  dryRun?: boolean;
  mapping?: CsvMapping;
  format?: BankFormat;
}

export interface ImportedLine extends BankLine {
  accountKey: string;
  lineKey: string;
  /** new: stored by this import (or would be, in a dry run); duplicate: already stored. */
  status: 'new' | 'duplicate';
  id: bigint | null;
}

export interface CurrencyTotals {
  credits: { count: number; totalMinor: Minor };
  debits: { count: number; totalMinor: Minor };
}

export interface ImportResult {
  format: BankFormat;
  version: string | null;
  filename: string | null;
  sha256: string;
  dryRun: boolean;
  statements: number;
  statementIds: bigint[];
  lines: ImportedLine[];
  /** What was read differently from what the file says (English; `warningTexts` in both languages). */
  warnings: string[];
  warningTexts: Text[];
  summary: {
    read: number;
    new: number;
    duplicates: number;
    /** Over the lines read. */
    byCurrency: Record<string, CurrencyTotals>;
    /** Over the new lines only. */
    newByCurrency: Record<string, CurrencyTotals>;
  };
}

const normText = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim().toUpperCase();

/**
 * The idempotency key of each line. The bank's own entry id when it gives one; otherwise a hash
 * of what the line says (date, amount, texts) plus its rank among identical lines of the file, so
 * two genuine identical transfers on one day stay two lines, and the same day read again from an
 * overlapping file gives the same keys. Exported for tests and for the API import of payments.
 */
export function lineKeys(lines: ReadonlyArray<BankLine & { accountKey: string }>): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    if (l.entryReference) return `ref:${l.entryReference}`;
    const base = [
      l.accountKey,
      l.bookingDate,
      l.valueDate ?? '',
      l.currency,
      l.amountMinor.toString(),
      normText(l.label),
      normText(l.remittanceText),
      normText(l.counterpartyName),
      l.counterpartyIban ?? '',
      normText(l.creditorReference),
      normText(l.endToEndId),
      normText(l.bankReference),
    ].join('\u001f');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return `h:${createHash('sha256').update(`${base}\u001f${n}`).digest('hex').slice(0, 40)}`;
  });
}

function totals(lines: readonly BankLine[]): Record<string, CurrencyTotals> {
  const out: Record<string, CurrencyTotals> = {};
  for (const l of lines) {
    const t = (out[l.currency] ??= { credits: { count: 0, totalMinor: 0n }, debits: { count: 0, totalMinor: 0n } });
    const side = l.amountMinor >= 0n ? t.credits : t.debits;
    side.count++;
    side.totalMinor += l.amountMinor;
  }
  return out;
}

export async function importBankFile(db: Db, orgId: string, content: Buffer | string, opts: ImportOptions = {}): Promise<ImportResult> {
  const parsed = parseBankFile(content, { filename: opts.filename, mapping: opts.mapping, format: opts.format });
  const sha256 = createHash('sha256').update(content).digest('hex');
  let wanted = opts.account ? normaliseIban(opts.account) : null;
  if (wanted && !isValidIban(wanted)) throw validation(E('account_iban', { account: String(opts.account) }), { field: 'account' });
  const warnings: Text[] = [...parsed.warnings];
  // A file that does not name its account (most CSV exports) is of the organisation's only
  // account: its IBAN on record, or the one account its earlier statements were of.
  if (!wanted && parsed.statements.some((s) => !s.accountIban && !s.accountNumber)) {
    const accounts = await organisationAccounts(db, orgId);
    if (accounts.length === 1) {
      wanted = accounts[0]!;
      warnings.push(W('account_assumed', { iban: wanted }));
    } else if (accounts.length > 1) throw validation(E('no_account', { accounts: accounts.join(', ') }), { file: opts.filename, field: 'account' });
    else throw validation(E('no_account_known'), { file: opts.filename, field: 'account' });
  }

  const stmts = parsed.statements.map((s, index) => {
    if (wanted && s.accountIban && s.accountIban !== wanted) {
      throw validation(E('other_account', { iban: String(s.accountIban), wanted }), { file: opts.filename, field: 'account' });
    }
    const iban = s.accountIban ?? wanted;
    // The account key must not depend on the options given: the file's own identifier first.
    const accountKey = s.accountIban ?? (s.accountNumber ? `no:${s.accountNumber}` : wanted);
    if (!accountKey) throw validation(E('no_account_known'), { file: opts.filename, field: 'account' });
    return { s, index, iban, accountKey };
  });
  const flat = stmts.flatMap((x) => x.s.lines.map((l) => ({ ...l, accountIban: l.accountIban ?? x.iban, accountKey: x.accountKey, stmt: x.index })));
  const keys = lineKeys(flat);

  const run = async (q: Queryable) => {
    const statementIds: bigint[] = [];
    const stmtId = new Map<number, bigint>();
    if (!opts.dryRun) {
      for (const { s, index, iban, accountKey } of stmts) {
        const params = [
          orgId, parsed.format, accountKey, iban, s.accountNumber, s.id, s.currency, s.openingBalance?.amountMinor ?? null, s.openingBalance?.date ?? null,
          s.closingBalance?.amountMinor ?? null, s.closingBalance?.date ?? null, opts.filename ?? null, sha256, index,
        ];
        const [row] = await q.query<{ id: bigint }>(
          `INSERT INTO bank_statements (organisation_id, format, account_key, account_iban, account_number, statement_ref, currency,
             opening_minor, opening_date, closing_minor, closing_date, filename, file_sha256, statement_index)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
           ON CONFLICT (organisation_id, file_sha256, statement_index) DO UPDATE SET imported_at = bank_statements.imported_at
           RETURNING id`,
          params,
        );
        statementIds.push(row!.id);
        stmtId.set(index, row!.id);
      }
    }
    const existing = new Map<string, bigint>();
    if (flat.length) {
      const rows = await q.query<{ account_key: string; line_key: string; id: bigint }>(
        `SELECT account_key, line_key, id FROM bank_lines
          WHERE organisation_id = $1 AND (account_key, line_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
        [orgId, flat.map((l) => l.accountKey), keys],
      );
      for (const r of rows) existing.set(`${r.account_key}\u001f${r.line_key}`, r.id);
    }
    const lines: ImportedLine[] = flat.map(({ stmt: _s, ...l }, i) => {
      const id = existing.get(`${l.accountKey}\u001f${keys[i]}`) ?? null;
      return { ...l, lineKey: keys[i]!, status: id === null ? 'new' : 'duplicate', id };
    });
    // Two identical keys inside one file can only come from a repeated bank id: stored once.
    const seenInFile = new Set<string>();
    for (const l of lines) {
      const k = `${l.accountKey}\u001f${l.lineKey}`;
      if (l.status === 'new' && seenInFile.has(k)) l.status = 'duplicate';
      seenInFile.add(k);
    }
    const fresh = lines.map((l, i) => ({ l, stmt: flat[i]!.stmt })).filter((x) => x.l.status === 'new');
    if (!opts.dryRun && fresh.length) {
      const rows = fresh.map(({ l, stmt }) => ({
        statement_id: stmtId.get(stmt)!.toString(),
        account_key: l.accountKey,
        line_key: l.lineKey,
        booking_date: l.bookingDate,
        value_date: l.valueDate,
        currency: l.currency,
        amount_minor: l.amountMinor.toString(),
        counterparty_name: l.counterpartyName,
        counterparty_iban: l.counterpartyIban,
        remittance_text: l.remittanceText,
        creditor_reference: l.creditorReference,
        label: l.label,
        entry_reference: l.entryReference,
        end_to_end_id: l.endToEndId,
        bank_reference: l.bankReference,
        transaction_code: l.transactionCode,
        reversal: l.reversal,
      }));
      // One set-based INSERT for the whole file; ON CONFLICT keeps a concurrent import of the same
      // lines from failing: whoever commits first stores them.
      const inserted = await q.query<{ id: bigint; line_key: string; account_key: string }>(
        `INSERT INTO bank_lines (organisation_id, statement_id, account_key, line_key, booking_date, value_date, currency, amount_minor,
           counterparty_name, counterparty_iban, remittance_text, creditor_reference, label, entry_reference, end_to_end_id,
           bank_reference, transaction_code, reversal)
         SELECT $1, x.statement_id, x.account_key, x.line_key, x.booking_date, x.value_date, x.currency, x.amount_minor,
           x.counterparty_name, x.counterparty_iban, x.remittance_text, x.creditor_reference, x.label, x.entry_reference, x.end_to_end_id,
           x.bank_reference, x.transaction_code, x.reversal
           FROM jsonb_to_recordset($2::jsonb) AS x(statement_id bigint, account_key text, line_key text, booking_date date, value_date date,
             currency text, amount_minor bigint, counterparty_name text, counterparty_iban text, remittance_text text, creditor_reference text,
             label text, entry_reference text, end_to_end_id text, bank_reference text, transaction_code text, reversal boolean)
         ON CONFLICT (organisation_id, account_key, line_key) DO NOTHING
         RETURNING id, line_key, account_key`,
        [orgId, JSON.stringify(rows)],
      );
      const ids = new Map(inserted.map((r) => [`${r.account_key}\u001f${r.line_key}`, r.id]));
      for (const { l } of fresh) {
        const id = ids.get(`${l.accountKey}\u001f${l.lineKey}`);
        if (id === undefined) l.status = 'duplicate';
        else l.id = id;
      }
    }
    return { statementIds, lines };
  };

  const { statementIds, lines } = opts.dryRun ? await run(db) : await db.tx(run);
  const newLines = lines.filter((l) => l.status === 'new');
  return {
    format: parsed.format,
    version: parsed.version,
    filename: opts.filename ?? null,
    sha256,
    dryRun: Boolean(opts.dryRun),
    statements: parsed.statements.length,
    statementIds,
    lines,
    warnings: warnings.map((w) => renderText(w, 'en')),
    warningTexts: warnings,
    summary: {
      read: lines.length,
      new: newLines.length,
      duplicates: lines.length - newLines.length,
      byCurrency: totals(lines),
      newByCurrency: totals(newLines),
    },
  };
}

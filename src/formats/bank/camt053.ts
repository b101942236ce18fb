/**
 * ISO 20022 camt.053 bank-to-customer statement, any version from camt.053.001.02 to .001.13, and
 * camt.054 debit/credit notification (.001.02 to .001.13: the same entries, sent by French banks for
 * each SEPA credit during the day, so a payment stops reminders the same day; the end-of-day
 * camt.053 repeats them under the same bank reference and the import stores them once).
 * The versions differ in places the engine reads (v2 `Dbtr/Nm` became `Dbtr/Pty/Nm`, `Sts` a text
 * became `Sts/Cd`, `BookgDt/Dt` may be `BookgDt/DtTm`), so each read tries both forms.
 * Errors name the XML element path, e.g. `Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt`.
 */
import { isCalendarDate, type CalendarDate } from '../../domain/dates.ts';
import { isValidIban, normaliseIban } from '../../domain/identifiers.ts';
import { amountInRange, currencyExponent, type Minor, tooLargeText } from '../../domain/money.ts';
import { type BankLine, type BankStatement, cleanText, joinText, type ParsedBankFile, type ParseOptions, parseError } from './types.ts';
import { readXml, XmlSyntaxError, xmlText } from '../xml.ts';
import { defineErrors, type Text } from '../../i18n/index.ts';

const E = defineErrors('bank-camt053', {
  malformed_xml: { fr: "XML mal formé : {reason}", en: "malformed XML: {reason}" },
  not_camt: { fr: "ce n’est pas un document camt ISO 20022 (pas d’espace de noms urn:iso:std:iso:20022:tech:xsd:camt)", en: "not an ISO 20022 camt document (no urn:iso:std:iso:20022:tech:xsd:camt namespace)" },
  not_statement: { fr: "{version} n’est ni un relevé ni un avis d’opération (camt.053 ou camt.054 attendu)", en: "{version} is neither a statement nor a notification (camt.053 or camt.054 expected)" },
  version: { fr: "{version} n’est pas une version prise en charge (camt.053/054.001.02 à .001.13)", en: "{version} is not a supported version (camt.053/054.001.02 to .001.13)" },
  no_document: { fr: "pas d’élément Document", en: "no Document element" },
  no_bk: { fr: "pas d’élément {element}", en: "no {element} element" },
  no_stmt: { fr: "pas d’élément {element} : le fichier ne contient aucun relevé", en: "no {element} element: the file holds no statement" },
  missing: { fr: "{what} manquant", en: "{what} is missing" },
  currency: { fr: "la devise « {currency} » n’est pas un code ISO 4217", en: "currency \"{currency}\" is not an ISO 4217 code" },
  amount: { fr: "le montant « {value} » n’est pas un nombre décimal", en: "amount \"{value}\" is not a decimal number" },
  amount_decimals: { fr: "le montant « {value} » a plus de décimales que n’en admet {currency}", en: "amount \"{value}\" has more decimals than {currency} allows" },
  cdtdbt: { fr: "CdtDbtInd « {ind} » doit valoir CRDT ou DBIT", en: "CdtDbtInd \"{ind}\" must be CRDT or DBIT" },
  no_date: { fr: "Dt ou DtTm manquant", en: "Dt or DtTm is missing" },
  not_a_date: { fr: "« {value} » n’est pas une date", en: "\"{value}\" is not a date" },
  balance_date: { fr: "date du solde manquante", en: "balance date is missing" },
  no_amt: { fr: "Amt manquant", en: "Amt is missing" },
  no_booking_date: { fr: "BookgDt (date d’opération) manquant, et ni date de valeur ni date de relevé pour le remplacer", en: "BookgDt (booking date) is missing, and neither a value date nor a statement date stands in for it" },
  what_amount: { fr: "montant", en: "amount" },
  what_ccy: { fr: "attribut de devise Ccy", en: "currency attribute Ccy" },
});

const W = defineErrors('bank-camt-warnings', {
  booking_from_statement: {
    fr: "opérations sans date d’opération ni date de valeur (BookgDt, ValDt) : {count}, datées du {date}, date du relevé {id}",
    en: "entries with neither booking nor value date (BookgDt, ValDt): {count}, dated {date}, the date of statement {id}",
  },
  not_booked: {
    fr: "opérations non comptabilisées ({statuses}) laissées de côté : {count} (seules les opérations BOOK sont de l’argent reçu)",
    en: "entries not booked ({statuses}) left out: {count} (only BOOK entries are money received)",
  },
  unsigned_balance: {
    fr: "solde {code} sans indicateur crédit/débit (CdtDbtInd) dans {path} : non conservé",
    en: "balance {code} without credit/debit indicator (CdtDbtInd) in {path}: not kept",
  },
  booking_from_value: {
    fr: "opérations sans date d’opération (BookgDt) : {count}, datées de leur date de valeur",
    en: "entries without booking date (BookgDt): {count}, dated by their value date",
  },
});

// A parsed XML tree is untyped by nature.
type X = any;

const REPEATED = new Set(['Stmt', 'Ntfctn', 'Ntry', 'NtryDtls', 'TxDtls', 'Bal', 'Ustrd', 'Strd', 'RfrdDocInf', 'AdrLine', 'AddtlNtryInf']);

const NS_RE = /urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d{2})/;

const arr = (v: X): X[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
/** Text of an element whether or not it carries attributes. */
const txt = (v: X): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return v['#text'] === undefined ? null : String(v['#text']);
  return String(v);
};

export function parseCamt053(input: Buffer | string, opts: ParseOptions = {}): ParsedBankFile {
  const file = opts.filename;
  const text = (typeof input === 'string' ? input : xmlText(input, file)).replace(/^\uFEFF/, '');
  let doc: X;
  try {
    doc = readXml(text, REPEATED);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw parseError(E('malformed_xml', { reason: e.message }), { file, line: e.line });
    throw e;
  }
  const ns = NS_RE.exec(text.slice(0, 2000));
  if (!ns) throw parseError(E('not_camt'), { file, path: 'Document' });
  const version = `camt.${ns[1]}.001.${ns[2]}`;
  const v = Number(ns[2]);
  const kind = ns[1] === '053' ? STATEMENT : ns[1] === '054' ? NOTIFICATION : null;
  if (!kind) throw parseError(E('not_statement', { version }), { file, path: 'Document' });
  if (v < 2 || v > 13) throw parseError(E('version', { version }), { file, path: 'Document' });

  const root = doc.Document;
  if (!root) throw parseError(E('no_document'), { file, path: 'Document' });
  const bk = root[kind.message];
  if (!bk) throw parseError(E('no_bk', { element: kind.message }), { file, path: `Document/${kind.message}` });
  const stmts = arr(bk[kind.report]);
  if (stmts.length === 0) throw parseError(E('no_stmt', { element: kind.report }), { file, path: `Document/${kind.message}` });

  const warnings: Text[] = [];
  const created = dateOnly(txt(bk.GrpHdr?.CreDtTm));
  const statements: BankStatement[] = stmts.map((st: X, si: number) =>
    parseStatement(st, `Document/${kind.message}/${kind.report}[${si + 1}]`, file, created, warnings),
  );
  return { format: kind.format, version, statements, warnings };
}

const STATEMENT = { format: 'camt053', message: 'BkToCstmrStmt', report: 'Stmt' } as const;
const NOTIFICATION = { format: 'camt054', message: 'BkToCstmrDbtCdtNtfctn', report: 'Ntfctn' } as const;

/** The calendar day of an ISO date or date-time, as written (null when it is not one). */
function dateOnly(s: string | null): CalendarDate | null {
  const d = s?.slice(0, 10) ?? null;
  return d && /^\d{4}-\d{2}-\d{2}$/.test(d) && isCalendarDate(d) ? (d as CalendarDate) : null;
}

function need(value: string | null, what: Text, where: { file?: string; path: string }): string {
  if (value === null || value === '') throw parseError(E('missing', { what }), where);
  return value;
}

function amountOf(node: X, path: string, file: string | undefined): { minor: Minor; currency: string } {
  const where = { file, path };
  const value = need(txt(node), E('what_amount'), where);
  const currency = need(typeof node === 'object' ? (node['@Ccy'] ?? null) : null, E('what_ccy'), where);
  if (!/^[A-Z]{3}$/.test(currency)) throw parseError(E('currency', { currency }), where);
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) throw parseError(E('amount', { value }), where);
  const exp = currencyExponent(currency);
  let frac = m[2] ?? '';
  if (frac.length > exp) {
    if (!/^0*$/.test(frac.slice(exp))) throw parseError(E('amount_decimals', { value, currency }), where);
    frac = frac.slice(0, exp);
  }
  const minor = BigInt(m[1]! + frac.padEnd(exp, '0'));
  if (!amountInRange(minor)) throw parseError(tooLargeText(value, currency), where);
  return { minor, currency };
}

function sign(node: X, path: string, file: string | undefined): 1n | -1n {
  const ind = txt(node);
  if (ind === 'CRDT') return 1n;
  if (ind === 'DBIT') return -1n;
  throw parseError(E('cdtdbt', { ind: ind ?? '' }), { file, path });
}

/** `Dt` or `DtTm`: the calendar date as the bank wrote it (the time and its offset are dropped). */
function dateOf(node: X, path: string, file: string | undefined): CalendarDate | null {
  if (node === undefined || node === null) return null;
  const raw = txt(node.Dt) ?? txt(node.DtTm);
  if (raw === null) throw parseError(E('no_date'), { file, path });
  const d = raw.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || !isCalendarDate(d) || (raw.length > 10 && raw[10] !== 'T' && raw[10] !== '+' && raw[10] !== 'Z' && raw[10] !== '-')) {
    throw parseError(E('not_a_date', { value: raw }), { file, path: `${path}/${node.Dt !== undefined ? 'Dt' : 'DtTm'}` });
  }
  return d as CalendarDate;
}

function accountOf(acct: X): { iban: string | null; number: string | null } {
  const id = acct?.Id;
  const iban = txt(id?.IBAN);
  if (iban) return { iban: normaliseIban(iban), number: null };
  const other = txt(id?.Othr?.Id);
  if (other && isValidIban(other)) return { iban: normaliseIban(other), number: null };
  return { iban: null, number: other ? cleanText(other) : null };
}

function balanceOf(st: X, codes: string[], path: string, file: string | undefined, warnings: Text[]) {
  const bals = arr(st.Bal);
  for (let i = 0; i < bals.length; i++) {
    const b = bals[i];
    const code = txt(b?.Tp?.CdOrPrtry?.Cd);
    if (code && codes.includes(code)) {
      const p = `${path}/Bal[${i + 1}]`;
      const { minor } = amountOf(b.Amt, `${p}/Amt`, file);
      const date = dateOf(b.Dt, `${p}/Dt`, file);
      if (!date) throw parseError(E('balance_date'), { file, path: `${p}/Dt` });
      // A balance is not needed to match payments: one without its sign is left out, not a reason to refuse.
      if (b.CdtDbtInd === undefined) {
        warnings.push(W('unsigned_balance', { code, path: p }));
        return null;
      }
      return { amountMinor: sign(b.CdtDbtInd, `${p}/CdtDbtInd`, file) * minor, date };
    }
  }
  return null;
}

const partyName = (p: X): string | null => cleanText(txt(p?.Pty?.Nm) ?? txt(p?.Nm));
const partyIban = (a: X): string | null => {
  const iban = txt(a?.Id?.IBAN);
  return iban ? normaliseIban(iban) : null;
};
const notProvided = (s: string | null) => (s && s.toUpperCase() !== 'NOTPROVIDED' ? s : null);

function txCode(b: X): string | null {
  if (!b) return null;
  const d = b.Domn;
  if (d) return [txt(d.Cd), txt(d.Fmly?.Cd), txt(d.Fmly?.SubFmlyCd)].filter(Boolean).join('-') || null;
  return txt(b.Prtry?.Cd);
}

interface TxInfo {
  name: string | null;
  iban: string | null;
  text: string | null;
  creditorReference: string | null;
  endToEndId: string | null;
  reference: string | null;
  amount: { minor: Minor; currency: string } | null;
}

/** What one TxDtls says: counterparty (payer of a credit, payee of a debit), remittance, references. */
function txInfo(tx: X, counterpartyIsDebtor: boolean, path: string, file: string | undefined): TxInfo {
  const rp = tx.RltdPties;
  const name = counterpartyIsDebtor ? (partyName(rp?.Dbtr) ?? partyName(rp?.UltmtDbtr)) : (partyName(rp?.Cdtr) ?? partyName(rp?.UltmtCdtr));
  const iban = counterpartyIsDebtor ? partyIban(rp?.DbtrAcct) : partyIban(rp?.CdtrAcct);
  const rmt = tx.RmtInf;
  const texts: string[] = arr(rmt?.Ustrd).map((u: X) => txt(u) ?? '');
  let creditorReference: string | null = null;
  for (const s of arr(rmt?.Strd)) {
    const ref = cleanText(txt(s?.CdtrRefInf?.Ref));
    if (ref && !creditorReference) creditorReference = ref.replace(/\s/g, '');
    // Referred document numbers are the invoice numbers the payer settles: kept as text to match.
    for (const d of arr(s?.RfrdDocInf)) {
      const nb = txt(d?.Nb);
      if (nb) texts.push(nb);
    }
    for (const a of arr(s?.AddtlRmtInf)) texts.push(txt(a) ?? '');
  }
  const addtl = txt(tx.AddtlTxInf);
  const refs = tx.Refs;
  let amount: TxInfo['amount'] = null;
  const amtNode = tx.Amt ?? tx.AmtDtls?.TxAmt?.Amt;
  if (amtNode !== undefined) amount = amountOf(amtNode, `${path}/${tx.Amt !== undefined ? 'Amt' : 'AmtDtls/TxAmt/Amt'}`, file);
  return {
    name,
    iban,
    text: joinText(texts) ?? cleanText(addtl),
    creditorReference,
    endToEndId: notProvided(cleanText(txt(refs?.EndToEndId))),
    reference: cleanText(txt(refs?.AcctSvcrRef) ?? txt(refs?.TxId) ?? txt(refs?.InstrId) ?? txt(refs?.Prtry?.Ref)),
    amount,
  };
}

function parseStatement(st: X, path: string, file: string | undefined, created: CalendarDate | null, warnings: Text[]): BankStatement {
  const acct = accountOf(st.Acct);
  const currency = txt(st.Acct?.Ccy);
  const lines: BankLine[] = [];
  const closing = balanceOf(st, ['CLBD'], path, file, warnings);
  const balanceDates = arr(st.Bal).map((b: X) => dateOnly(txt(b?.Dt?.Dt) ?? txt(b?.Dt?.DtTm)));
  // The day the statement is for, when an entry gives no date of its own: its period's end, its
  // creation, its last balance, the message's creation.
  const statementDate = dateOnly(txt(st.FrToDt?.ToDtTm)) ?? dateOnly(txt(st.CreDtTm)) ?? balanceDates.filter(Boolean).at(-1) ?? created;
  let fromValue = 0;
  let fromStatement = 0;
  const notBooked = new Map<string, number>();
  arr(st.Ntry).forEach((n: X, ni: number) => {
    const np = `${path}/Ntry[${ni + 1}]`;
    const status = txt(n.Sts?.Cd) ?? txt(n.Sts);
    // A statement reports booked entries; pending or informational ones are not money received.
    if (status && status !== 'BOOK') {
      notBooked.set(status, (notBooked.get(status) ?? 0) + 1);
      return;
    }
    if (n.Amt === undefined) throw parseError(E('no_amt'), { file, path: np });
    const { minor, currency: ccy } = amountOf(n.Amt, `${np}/Amt`, file);
    const sg = sign(n.CdtDbtInd, `${np}/CdtDbtInd`, file);
    const rv = txt(n.RvslInd);
    const reversal = rv === 'true' || rv === '1';
    const booked = dateOf(n.BookgDt, `${np}/BookgDt`, file);
    const valueDate = dateOf(n.ValDt, `${np}/ValDt`, file);
    const bookingDate = booked ?? valueDate ?? statementDate;
    if (!bookingDate) throw parseError(E('no_booking_date'), { file, path: np });
    if (!booked && valueDate) fromValue++;
    else if (!booked) fromStatement++;
    // The counterparty of a credit is the debtor; a reversal (a debit cancelling a credit) still
    // names the original debtor, which is how the reversed payment is found again.
    const counterpartyIsDebtor = sg > 0n !== reversal;
    const txs: { tx: X; path: string }[] = [];
    arr(n.NtryDtls).forEach((d: X, di: number) => {
      arr(d?.TxDtls).forEach((tx: X, ti: number) => {
        txs.push({ tx, path: `${np}/NtryDtls[${di + 1}]/TxDtls[${ti + 1}]` });
      });
    });
    const infos = txs.map((t) => txInfo(t.tx, counterpartyIsDebtor, t.path, file));
    const entryRef = cleanText(txt(n.AcctSvcrRef)) ?? cleanText(txt(n.NtryRef));
    const label = joinText(arr(n.AddtlNtryInf).map((a: X) => txt(a)));
    const base = {
      bookingDate,
      valueDate,
      currency: ccy,
      label,
      transactionCode: txCode(n.BkTxCd),
      reversal,
      accountIban: acct.iban,
      accountNumber: acct.number,
    };
    // A batch entry (one booking for several transfers) is split into its transactions when each
    // carries its own amount and they add up to the entry: each transfer is matched on its own.
    const splittable =
      infos.length > 1 && infos.every((i) => i.amount && i.amount.currency === ccy) && infos.reduce((s, i) => s + i.amount!.minor, 0n) === minor;
    if (splittable) {
      infos.forEach((i, k) => {
        lines.push({
          ...base,
          amountMinor: sg * i.amount!.minor,
          counterpartyName: i.name,
          counterpartyIban: i.iban,
          remittanceText: i.text,
          creditorReference: i.creditorReference,
          entryReference: entryRef ? `${entryRef}/${k + 1}` : null,
          endToEndId: i.endToEndId,
          bankReference: i.reference,
          source: { path: txs[k]!.path },
        });
      });
      return;
    }
    const same = <T>(f: (i: TxInfo) => T | null): T | null => {
      const vals = [...new Set(infos.map(f).filter((x) => x !== null))];
      return vals.length === 1 ? vals[0]! : null;
    };
    lines.push({
      ...base,
      amountMinor: sg * minor,
      counterpartyName: same((i) => i.name),
      counterpartyIban: same((i) => i.iban),
      remittanceText: joinText(infos.map((i) => i.text)),
      creditorReference: same((i) => i.creditorReference),
      entryReference: entryRef,
      endToEndId: same((i) => i.endToEndId),
      bankReference: same((i) => i.reference),
      source: { path: np },
    });
  });
  const id = cleanText(txt(st.Id));
  if (fromValue) warnings.push(W('booking_from_value', { count: fromValue }));
  if (notBooked.size) warnings.push(W('not_booked', { statuses: [...notBooked.keys()].join(', '), count: [...notBooked.values()].reduce((a, b) => a + b, 0) }));
  if (fromStatement) warnings.push(W('booking_from_statement', { count: fromStatement, date: statementDate!, id: id ?? path }));
  return {
    id,
    accountIban: acct.iban,
    accountNumber: acct.number,
    currency: currency ?? lines[0]?.currency ?? null,
    openingBalance: balanceOf(st, ['OPBD', 'PRCD'], path, file, warnings),
    closingBalance: closing,
    lines,
  };
}

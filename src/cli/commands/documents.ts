/**
 * `relance render`: writes exactly what a dunning step would send (a .eml for an email, a PDF for a
 * letter, the text of an SMS or a call script), so anyone can look at a document without running
 * the engine. `relance template check|save|reset`: validate and store an organisation's own version
 * of a template part.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { calendarDate, todayIn } from '../../domain/dates.ts';
import { loadRateTables } from '../../law/rates-repo.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import { validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import type { Lang } from '../../i18n/index.ts';
import { composeDocument } from '../../documents/compose.ts';
import { buildEml } from '../../documents/email.ts';
import { validateTemplate } from '../../documents/engine.ts';
import { documentFromLedger } from '../../documents/from-ledger.ts';
import { assertTemplate, CHANNEL_PARTS, type Part, partMode } from '../../documents/registry.ts';
import { loadTemplateOverrides, resetTemplate, saveTemplate } from '../../documents/repo.ts';
import { sampleVariables } from '../../documents/samples.ts';
import type { CliContext } from '../context.ts';

function lang(s: string | undefined, field: string): Lang | undefined {
  if (s === undefined) return undefined;
  if (s !== 'fr' && s !== 'en') throw validation(CE('language_got', { value: s }), { field });
  return s;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('render')
    .description('write the document a dunning step would send: .eml (email), PDF (letter), text (sms, call)')
    .requiredOption('--invoice <number>', 'invoice number')
    .requiredOption('--template <key>', 'courtesy, due, reminder, firm, final, formal_notice, handover, statement, payment_plan, promise, dispute_ack, call_j8, call_j25')
    .requiredOption('--channel <channel>', 'email, sms, letter or call')
    .option('--lang <lang>', 'fr or en (default: the customer’s language)')
    .option('--date <YYYY-MM-DD>', 'date of the document (default: today in the organisation’s time zone)')
    .requiredOption('--out <file>', 'file to write')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (opts: { invoice: string; template: string; channel: string; lang?: string; date?: string; out: string; org?: string }) => {
      const { key, channel } = assertTemplate(opts.template, opts.channel);
      const wantedLang = lang(opts.lang, '--lang');
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, opts.org);
        const org = await getOrganisation(db, orgId);
        const at = opts.date ? calendarDate(opts.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const rates = await loadRateTables(db);
        const ledgerDoc = await documentFromLedger(db, orgId, { invoiceNumber: opts.invoice, key, lang: wantedLang, at, rates });
        const override = await loadTemplateOverrides(db, orgId);
        // The email carries the invoice's PDF when one is stored, and only then says so.
        if (channel === 'email') ledgerDoc.input.attachedInvoices = ledgerDoc.attachment ? 1 : 0;
        const doc = await composeDocument({ key, channel, input: ledgerDoc.input, override });
        let bytes: Buffer;
        if (channel === 'email') {
          const attachments = [];
          if (ledgerDoc.attachment) attachments.push(ledgerDoc.attachment);
          if (key === 'formal_notice') {
            // The formal notice email carries the letter itself, as it goes by registered post.
            const letter = await composeDocument({ key, channel: 'letter', input: ledgerDoc.input, override });
            attachments.push({ filename: `${key}-${ledgerDoc.invoice.number}.pdf`, contentType: 'application/pdf', content: letter.pdf! });
          }
          const branding = ledgerDoc.input.branding;
          const fromAddress = branding?.email ?? 'no-reply@relance.invalid';
          bytes = await buildEml({
            from: `"${org.legalName.replace(/"/g, '')}" <${fromAddress}>`,
            to: ledgerDoc.recipient.email ? `"${(ledgerDoc.recipient.name ?? '').replace(/"/g, '')}" <${ledgerDoc.recipient.email}>` : null,
            subject: doc.subject ?? '',
            html: doc.html ?? '',
            text: doc.text ?? '',
            attachments,
          });
          if (!ledgerDoc.recipient.email) process.stderr.write('relance: warning: the customer has no contact with an email address; the message has no To\n');
        } else if (channel === 'letter') bytes = doc.pdf!;
        else bytes = Buffer.from(`${doc.text ?? ''}\n`, 'utf8');
        writeFileSync(opts.out, bytes);
        ctx.out(`${opts.out}: ${key} ${channel} ${doc.lang}, invoice ${ledgerDoc.invoice.number}, ${bytes.length} bytes${doc.epcPayload ? ', with EPC QR code' : ''}`);
      } finally {
        await db.close();
      }
    });

  const template = program.command('template').description('check and store an organisation’s own template parts');
  const partOptions = (c: Command) =>
    c
      .requiredOption('--template <key>', 'template key (reminder, formal_notice…)')
      .requiredOption('--channel <channel>', 'email, sms, letter or call')
      .requiredOption('--part <part>', 'subject, html, text (email); text (sms); subject, body (letter); script (call)')
      .requiredOption('--lang <lang>', 'fr or en');
  const checkPart = (opts: { template: string; channel: string; part: string; lang: string }) => {
    const { key, channel } = assertTemplate(opts.template, opts.channel);
    if (!CHANNEL_PARTS[channel].includes(opts.part as Part)) throw validation(CE('template_parts', { channel, parts: CHANNEL_PARTS[channel].join(', ') }), { field: '--part' });
    return { key, channel, part: opts.part as Part, lang: lang(opts.lang, '--lang')! };
  };

  partOptions(template.command('check <file>').description('validate a template file: syntax, known variables, renders on the samples')).action(
    (file: string, opts: { template: string; channel: string; part: string; lang: string }) => {
      const p = checkPart(opts);
      validateTemplate(readFileSync(file, 'utf8'), { mode: partMode(p.channel, p.part), lang: p.lang, samples: sampleVariables(p.lang), place: { file } });
      ctx.out(`${file}: valid ${p.key} ${p.channel} ${p.part} (${p.lang})`);
    },
  );

  partOptions(template.command('save <file>').description('validate and store a template part for the organisation'))
    .option('--org <id>', 'organisation')
    .action(async (file: string, opts: { template: string; channel: string; part: string; lang: string; org?: string }) => {
      const p = checkPart(opts);
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, opts.org);
        await saveTemplate(db, orgId, { key: p.key, channel: p.channel, part: p.part, lang: p.lang, source: readFileSync(file, 'utf8') });
        ctx.out(`saved ${p.key} ${p.channel} ${p.part} (${p.lang})`);
      } finally {
        await db.close();
      }
    });

  partOptions(template.command('reset').description('go back to the built-in version of a template part'))
    .option('--org <id>', 'organisation')
    .action(async (opts: { template: string; channel: string; part: string; lang: string; org?: string }) => {
      const p = checkPart(opts);
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, opts.org);
        await resetTemplate(db, orgId, { key: p.key, channel: p.channel, part: p.part, lang: p.lang });
        ctx.out(`reset ${p.key} ${p.channel} ${p.part} (${p.lang}) to the built-in version`);
      } finally {
        await db.close();
      }
    });
}

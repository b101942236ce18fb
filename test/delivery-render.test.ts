/**
 * The worker renders a batch of actions from ledger data read once for the whole batch. What it
 * renders must be exactly what the documents code makes from the ledger for each action alone
 * (documentFromLedger, the reference reader used by `relance render`): same amounts, late fees,
 * credits, invoice PDFs, previous reminders; and a batch renders byte for byte what each action
 * rendered on its own does.
 */
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { type ActionToRender, type RenderContext, renderAction, renderActions } from '../src/delivery/content.ts';
import { confirmSent } from '../src/delivery/outbox.ts';
import { loadDeliverySettings } from '../src/delivery/settings.ts';
import { composeDocument } from '../src/documents/compose.ts';
import { documentFromLedger } from '../src/documents/from-ledger.ts';
import { loadTemplateOverrides } from '../src/documents/repo.ts';
import type { DocumentInput, InvoiceFees } from '../src/documents/variables.ts';
import { loadRateTables } from '../src/law/rates-repo.ts';
import { allocate, createCreditNote, getOrganisation, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, d, paris, plan, setupOrg, worker } from './delivery-fixture.ts';

const PDF_1 = Buffer.from('%PDF-1.4\n% invoice one\n%%EOF\n');

describe.each(dbTargets())('batched rendering on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('renders what the documents code reads from the ledger, and a batch what each action alone renders', async () => {
    const org = await setupOrg(db);
    // Customer A: two invoices due the same day (one action for both), one with its PDF and partly
    // paid, an unallocated payment and a credit note; a reminder already sent.
    const a = await addCustomer(db, org.id, [{ name: 'Marie Curie', email: 'marie@a.test' }, { name: 'Pierre', email: 'pierre@a.test' }]);
    const a1 = await addInvoice(db, org.id, a.id, '2026-03-02', { pdf: PDF_1, number: 'A-1', amount: 240_000n });
    await addInvoice(db, org.id, a.id, '2026-03-02', { number: 'A-2', amount: 60_000n });
    await addInvoice(db, org.id, a.id, '2026-04-30', { number: 'A-3', amount: 10_000n });
    const pay = await recordPayment(db, org.id, { customerId: a.id, paymentDate: '2026-03-05', currency: 'EUR', amountMinor: 50_000n });
    await allocate(db, org.id, { invoiceId: a1.id, paymentId: pay.id, amountMinor: 40_000n, allocatedOn: d('2026-03-05') });
    await createCreditNote(db, org.id, { customerId: a.id, number: 'AV-1', issueDate: '2026-03-06', currency: 'EUR', amountMinor: 3_000n });
    // Customer B: a consumer, one invoice.
    const b = await addCustomer(db, org.id, [{ name: 'Élodie Garnier', email: 'elodie@b.test' }], 'consumer');
    await addInvoice(db, org.id, b.id, '2026-03-02', { number: 'B-1', amount: 45_000n });

    await plan(db, org.id, '2026-03-02');
    expect((await worker(db, paris('2026-03-02')).runOnce()).exported).toBe(2);
    // Sent by hand from the local outbox, and confirmed: now reminders the debtor received.
    expect(await db.tx((q) => confirmSent(q, org.id, { status: ['exported'] }, 'claire', paris('2026-03-02', '11:00')))).toHaveLength(2);
    await plan(db, org.id, '2026-03-09');
    const due = (await actions(db, org.id)).filter((x) => x.status === 'queued' && x.channel === 'email');
    expect(due).toHaveLength(2);

    const now = paris('2026-03-09', '10:30');
    const ctx: RenderContext = {
      now,
      org: await getOrganisation(db, org.id),
      settings: await loadDeliverySettings(db, org.id),
      rates: await loadRateTables(db),
      overrides: await loadTemplateOverrides(db, org.id),
    };
    const toRender = async (id: bigint, template?: string): Promise<ActionToRender> => {
      const [row] = await db.query<{ customer_id: bigint; template: string }>('SELECT customer_id, template FROM actions WHERE organisation_id = $1 AND id = $2', [org.id, id]);
      const inv = await db.query<{ invoice_id: bigint }>('SELECT invoice_id FROM step_records WHERE organisation_id = $1 AND action_id = $2 ORDER BY invoice_id', [org.id, id]);
      return { orgId: org.id, id, customerId: row!.customer_id, channel: 'email', template: template ?? row!.template, invoiceIds: inv.map((x) => x.invoice_id) };
    };
    const list = [
      await toRender(due[0]!.id),
      await toRender(due[1]!.id),
      await toRender(due[0]!.id, 'statement'),
      await toRender(due[1]!.id, 'formal_notice'),
      // A formal notice claims the late fees: the interest counts the partial payment from its date.
      await toRender(due[0]!.id, 'formal_notice'),
    ];

    // A batch renders exactly what each action renders alone (but for the MIME boundaries, random).
    const unbound = (raw: Buffer) => {
      const text = raw.toString('latin1');
      const boundaries = [...text.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]!);
      return boundaries.reduce((t, b, k) => t.split(b).join(`BOUNDARY-${k}`), text);
    };
    const batch = await renderActions(db, list, () => ctx);
    for (const [k, r] of batch.entries()) {
      if (!('rendered' in r)) throw r.error;
      const alone = await renderAction(db, list[k]!, ctx);
      if (r.rendered.channel !== 'email' || alone.channel !== 'email') throw new Error('not an email');
      expect(unbound(r.rendered.raw), `action ${k}`).toBe(unbound(alone.raw));
      expect(r.rendered.invoices).toEqual(alone.invoices);
    }

    // ... and what the documents code makes from the ledger, invoice by invoice.
    for (const [k, r] of batch.entries()) {
      if (!('rendered' in r) || r.rendered.channel !== 'email') throw new Error('not rendered');
      const act = list[k]!;
      const key = act.template as 'reminder' | 'statement' | 'formal_notice';
      const numbers = await db.query<{ number: string }>('SELECT number FROM invoices WHERE organisation_id = $1 AND id = ANY($2::bigint[]) ORDER BY due_date, id', [
        org.id,
        `{${act.invoiceIds.join(',')}}`,
      ]);
      const docs = [];
      for (const n of key === 'statement' ? numbers.slice(0, 1) : numbers) docs.push(await documentFromLedger(db, org.id, { invoiceNumber: n.number, key, at: d('2026-03-09'), rates: ctx.rates }));
      const fees = new Map<string, InvoiceFees>();
      for (const x of docs) for (const [n, f] of x.input.fees ?? []) fees.set(n, f);
      const mail = await simpleParser(r.rendered.raw);
      const contactName = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.name : undefined;
      const [contact] = await db.query<{ name: string; email: string }>('SELECT name, email FROM contacts WHERE organisation_id = $1 AND customer_id = $2 ORDER BY id', [org.id, act.customerId]);
      if (!contact) throw new Error('no contact');
      expect(contactName).toBe(contact.name);
      const input: DocumentInput = {
        ...docs[0]!.input,
        invoices: docs.flatMap((x) => x.input.invoices),
        fees,
        contact: { ...contact, phone: '+33612345678', addressLine1: '3 place du Marché', postalCode: '69003', city: 'Lyon' },
        reminders: [{ date: d('2026-03-02'), channel: 'email', key: 'due' }],
        // The text says the invoice is attached when, and only when, its PDF travels along.
        attachedInvoices: mail.attachments.filter((x) => x.content.equals(PDF_1)).length,
      };
      const reference = await composeDocument({ key, channel: 'email', input, override: ctx.overrides, creationDate: now });
      expect(mail.subject).toBe(reference.subject);
      expect(mail.text?.trimEnd()).toBe(reference.text!.replace(/\r\n/g, '\n').trimEnd());
      expect(mail.html).toBe(reference.html);
      // The invoice PDFs travel along (for a statement, the one of the invoice the step was for).
      const pdfs = mail.attachments.filter((x) => x.filename === 'F-1.pdf' || x.content.equals(PDF_1));
      expect(pdfs.length).toBe(act.customerId === a.id ? 1 : 0);
    }
    // The statement lists every open invoice of the customer, the one not yet due too.
    const statement = await simpleParser((batch[2] as { rendered: { raw: Buffer } }).rendered.raw);
    expect(statement.text).toContain('A-3');
    const notice = await simpleParser((batch[4] as { rendered: { raw: Buffer } }).rendered.raw);
    expect(notice.text).toMatch(/pénalités de retard arrêtées au [^(]+\(\d+,\d\d/);
    expect(notice.text).toMatch(/80,00/);
  });
});

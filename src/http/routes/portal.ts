/**
 * The debtor portal's routes (issue 20), outside /api: the pages a customer opens from the link
 * in a message, needing no account. Each request: rate limits (per address, per link, wrong links
 * per address), the link opened (src/portal/links.ts: a tampered, expired or revoked link, or a
 * portal switched off, all get the same page with no detail), then the page or the action, whose
 * writes are one transaction; an action answers with a redirect to the page and its confirmation
 * (a reload sends nothing twice), a refusal with the page and the reason in the customer's words.
 * Forms are checked with zod schemas; every visit and action is a portal event.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { type CalendarDate, formatLongDate, todayIn } from '../../domain/dates.ts';
import { composeDocument } from '../../documents/compose.ts';
import { documentFromLedger } from '../../documents/from-ledger.ts';
import type { Lang } from '../../i18n/index.ts';
import { loadRateTables } from '../../law/rates-repo.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import {
  type ActionContext,
  answerCheck,
  declarePaid,
  PortalRefusal,
  promiseToPay,
  proposePlan,
  raiseDispute,
  recordEvent,
  updateBillingContact,
} from '../../portal/actions.ts';
import { openLink, type PortalAccess } from '../../portal/links.ts';
import { type PortalMessageKey, pt } from '../../portal/messages.ts';
import { checkPage, type Flash, limitedPage, PORTAL_CSP, portalPage, refusalText, refusedPage } from '../../portal/pages.ts';
import { paymentAdapterFor } from '../../portal/payments.ts';
import { ACTION_RULE, ADDRESS_RULE, hit, LINK_RULE, over, WRONG_LINK_RULE } from '../../portal/rate.ts';
import { portalView } from '../../portal/view.ts';
import { clientAddress } from '../auth.ts';
import type { AppContext } from '../context.ts';

/** Larger than any attachment an organisation may allow (20 MiB) plus the form around it. */
const MAX_FORM_BYTES = 21 * 1024 * 1024;

const LangField = z.enum(['fr', 'en']).optional();
const Key = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);
const Invoices = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().max(20)).max(500));
const Text = (max: number) => z.string().max(max).optional();

const FORMS = {
  paid: z.object({ key: Key, lang: LangField, invoices: Invoices, paidOn: Text(20), amount: Text(40), reference: Text(500) }),
  promise: z.object({ key: Key, lang: LangField, invoices: Invoices, date: Text(20) }),
  plan: z.object({ key: Key, lang: LangField, invoices: Invoices, count: Text(4), firstDate: Text(20) }),
  dispute: z.object({ key: Key, lang: LangField, invoices: Invoices, reason: Text(40), comment: Text(4000), attachment: z.any().optional() }),
  contact: z.object({ key: Key, lang: LangField, name: Text(400), email: Text(400), phone: Text(60) }),
  check: z.object({ key: Key, lang: LangField, invoice: z.string().max(20), answer: Text(5), reason: Text(40), comment: Text(4000) }),
} as const;
type FormName = keyof typeof FORMS;

const DONE: Record<string, PortalMessageKey> = {
  paid: 'done_paid',
  promise: 'done_promise',
  plan: 'done_plan',
  plan_request: 'done_plan_request',
  dispute: 'done_dispute',
  contact: 'done_contact',
  check_ok: 'done_check_ok',
  check_problem: 'done_check_problem',
};

function html(body: string, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': PORTAL_CSP,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'x-robots-tag': 'noindex, nofollow',
      ...extra,
    },
  });
}

function file(bytes: Uint8Array, contentType: string, filename: string): Response {
  return new Response(new Uint8Array(bytes), {
    headers: {
      'content-type': contentType,
      'content-disposition': `inline; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-robots-tag': 'noindex, nofollow',
    },
  });
}

/** The language a refusal page speaks before anyone is known: the one asked, else the browser's. */
function browserLang(c: Context): Lang {
  const asked = c.req.query('lang');
  if (asked === 'fr' || asked === 'en') return asked;
  const accept = (c.req.header('accept-language') ?? '').toLowerCase();
  return accept.startsWith('en') ? 'en' : 'fr';
}

interface Opened {
  access: PortalAccess;
  today: CalendarDate;
  now: Date;
  address: string;
  base: string;
  langAsked: Lang | undefined;
}

export function registerPortalRoutes(app: Hono, ctx: AppContext): void {
  const db = ctx.db;
  app.use('/portal/*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => html(limitedOrLarge(browserLang(c)), 413) }));
  const limitedOrLarge = (lang: Lang) => refusedLike(lang, pt(lang, 'err_too_large'));
  const refusedLike = (lang: Lang, text: string) => limitedPage(lang).replace(pt(lang, 'limited_text'), text);

  /** Rate limits and the link; a Response when the request stops here. */
  async function open(c: Context): Promise<Opened | Response> {
    const now = ctx.now();
    const address = clientAddress(c, ctx);
    const lang = browserLang(c);
    const token = c.req.param('token') ?? '';
    const limited = await db.tx(async (q) => (await over(q, `portal-wrong:${address}`, WRONG_LINK_RULE, now)) || (await hit(q, `portal-addr:${address}`, ADDRESS_RULE, now)));
    if (limited) return html(limitedPage(lang), 429, { 'retry-after': String(limited) });
    const access = await openLink(db, token, now);
    if (!access) {
      await db.tx((q) => hit(q, `portal-wrong:${address}`, WRONG_LINK_RULE, now));
      return html(refusedPage(lang), 404);
    }
    const perLink = await db.tx((q) => hit(q, `portal-link:${access.linkId}`, LINK_RULE, now));
    if (perLink) return html(limitedPage(lang), 429, { 'retry-after': String(perLink) });
    const org = await getOrganisation(db, access.orgId);
    const asked = c.req.query('lang');
    return { access, now, today: todayIn(org.timeZone, now), address, base: `/portal/${token}`, langAsked: asked === 'fr' || asked === 'en' ? asked : undefined };
  }

  const actx = (o: Opened, key: string | null): ActionContext => ({ access: o.access, today: o.today, now: o.now, address: o.address, submissionKey: key });
  const langHref = (o: Opened, lang: Lang, path = '') => `${o.base}${path}?lang=${lang === 'fr' ? 'en' : 'fr'}`;

  async function page(o: Opened, flash: Flash | null, status = 200, lang?: Lang): Promise<Response> {
    const view = await portalView(db, o.access, o.today, await loadRateTables(db), lang ?? o.langAsked);
    const online = paymentAdapterFor(o.access.orgId, o.access.settings) !== null;
    return html(portalPage(view, o.access.settings, o.base, { flash, online, langHref: langHref(o, view.lang) }), status);
  }

  app.get('/portal/:token', async (c) => {
    const o = await open(c);
    if (o instanceof Response) return o;
    await db.tx((q) => recordEvent(q, actx(o, null), 'visit', null, { lang: o.langAsked ?? null }));
    const done = c.req.query('done');
    let flash: Flash | null = null;
    if (done && DONE[done]) {
      const view = await portalView(db, o.access, o.today, await loadRateTables(db), o.langAsked);
      const ref = c.req.query('ref');
      let until = '';
      if (ref && /^\d{1,18}$/.test(ref)) {
        const [e] = await db.query<{ data: unknown }>('SELECT data FROM portal_events WHERE organisation_id = $1 AND customer_id = $2 AND id = $3', [o.access.orgId, o.access.customerId, ref]);
        const data = (typeof e?.data === 'string' ? JSON.parse(e.data) : e?.data ?? {}) as { holdUntil?: string };
        if (data.holdUntil) until = data.holdUntil;
      }
      flash = { kind: 'done', text: pt(view.lang, DONE[done]!, { date: until ? formatLongDate(until as CalendarDate, view.lang) : '' }) };
    }
    return page(o, flash);
  });

  app.get('/portal/:token/invoices/:id/pdf', async (c) => {
    const o = await open(c);
    if (o instanceof Response) return o;
    const id = c.req.param('id');
    if (!/^\d{1,18}$/.test(id)) return html(refusedPage(browserLang(c)), 404);
    const [d] = await db.query<{ invoice_id: bigint; number: string; filename: string; content: Uint8Array }>(
      `SELECT i.id AS invoice_id, i.number, d.filename, d.content FROM invoices i
         JOIN documents d ON d.organisation_id = i.organisation_id AND d.id = i.pdf_document_id AND d.content_type = 'application/pdf'
        WHERE i.organisation_id = $1 AND i.customer_id = $2 AND i.id = $3`,
      [o.access.orgId, o.access.customerId, id],
    );
    if (!d) return html(refusedPage(browserLang(c)), 404);
    await db.tx((q) => recordEvent(q, actx(o, null), 'document', [d.invoice_id], { document: 'invoice' }));
    return file(d.content, 'application/pdf', `${d.number}.pdf`);
  });

  app.get('/portal/:token/statement/:currency/pdf', async (c) => {
    const o = await open(c);
    if (o instanceof Response) return o;
    const currency = c.req.param('currency');
    const [first] = /^[A-Z]{3}$/.test(currency)
      ? await db.query<{ number: string }>(
          `SELECT number FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND currency = $3 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id LIMIT 1`,
          [o.access.orgId, o.access.customerId, currency],
        )
      : [];
    if (!first) return html(refusedPage(browserLang(c)), 404);
    const doc = await documentFromLedger(db, o.access.orgId, { invoiceNumber: first.number, key: 'statement', lang: o.langAsked, at: o.today, rates: await loadRateTables(db) });
    const composed = await composeDocument({ key: 'statement', channel: 'letter', input: doc.input, creationDate: o.now });
    await db.tx((q) => recordEvent(q, actx(o, null), 'document', null, { document: 'statement', currency }));
    return file(composed.pdf!, 'application/pdf', `statement-${o.today}.pdf`);
  });

  app.get('/portal/:token/check/:invoice', async (c) => {
    const o = await open(c);
    if (o instanceof Response) return o;
    const view = await portalView(db, o.access, o.today, await loadRateTables(db), o.langAsked);
    const id = c.req.param('invoice');
    const invoice = view.groups.flatMap((g) => g.invoices).find((i) => i.id === id) ?? null;
    await db.tx((q) => recordEvent(q, actx(o, null), 'visit', invoice ? [BigInt(invoice.id)] : null, { page: 'check' }));
    return html(checkPage(view, o.base, invoice, langHref(o, view.lang, `/check/${id}`)));
  });

  app.get('/portal/:token/pay/:currency', async (c) => {
    const o = await open(c);
    if (o instanceof Response) return o;
    const adapter = paymentAdapterFor(o.access.orgId, o.access.settings);
    const view = await portalView(db, o.access, o.today, await loadRateTables(db), o.langAsked);
    const group = view.groups.find((g) => g.currency === c.req.param('currency'));
    if (!adapter || !group) return page(o, { kind: 'error', text: pt(view.lang, 'err_pay_online') }, 422);
    const origin = new URL(c.req.url).origin;
    const back = `${o.access.settings.publicUrl ?? origin}${o.base}?lang=${view.lang}`;
    try {
      const numbers = group.invoices.map((i) => i.number);
      const link = await adapter.createLink({
        amountMinor: group.openTotalMinor,
        currency: group.currency,
        description: `${numbers.join(', ')} — ${view.organisation.name}`,
        customerId: view.customer.id,
        invoiceNumbers: numbers,
        successUrl: back,
        cancelUrl: back,
        // The same amount for the same invoices on the same day: the provider's same page.
        idempotencyKey: `relance-${o.access.orgId}-${o.access.customerId}-${group.currency}-${group.openTotalMinor}-${o.today}`,
      });
      await db.tx((q) => recordEvent(q, actx(o, null), 'pay_online', group.invoices.map((i) => BigInt(i.id)), { provider: adapter.name, reference: link.providerReference, amountMinor: group.openTotalMinor.toString(), currency: group.currency }));
      return new Response(null, { status: 303, headers: { location: link.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
    } catch (e) {
      console.error(e);
      return page(o, { kind: 'error', text: pt(view.lang, 'err_pay_online') }, 502);
    }
  });

  const act = (name: FormName, run: (q: Queryable, a: ActionContext, form: Record<string, unknown>) => Promise<{ eventId: bigint; kind: string }>) =>
    app.post(`/portal/:token/${name}`, async (c) => {
      const o = await open(c);
      if (o instanceof Response) return o;
      const limited = await db.tx((q) => hit(q, `portal-action:${o.access.linkId}`, ACTION_RULE, o.now));
      if (limited) return html(limitedPage(o.langAsked ?? browserLang(c)), 429, { 'retry-after': String(limited) });
      const raw = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
      const parsed = FORMS[name].safeParse(raw);
      const formLang = raw.lang === 'fr' || raw.lang === 'en' ? (raw.lang as Lang) : o.langAsked;
      const o2 = { ...o, langAsked: formLang };
      if (!parsed.success) {
        const view = await portalView(db, o.access, o.today, await loadRateTables(db), formLang);
        return page(o2, { kind: 'error', text: pt(view.lang, 'err_form') }, 422, formLang);
      }
      const form = parsed.data as Record<string, unknown>;
      try {
        const r = await db.tx((q) => run(q, actx(o2, String(form.key)), form));
        const lang = formLang ? `&lang=${formLang}` : '';
        return new Response(null, { status: 303, headers: { location: `${o.base}?done=${r.kind}&ref=${r.eventId}${lang}`, 'cache-control': 'no-store' } });
      } catch (e) {
        const view = await portalView(db, o.access, o.today, await loadRateTables(db), formLang);
        if (e instanceof PortalRefusal) return page(o2, { kind: 'error', text: refusalText(view.lang, e) }, 422, formLang);
        console.error(e);
        return page(o2, { kind: 'error', text: pt(view.lang, 'err_failed') }, 500, formLang);
      }
    });

  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  act('paid', (q, a, f) => declarePaid(q, a, { invoices: f.invoices as string[], paidOn: str(f.paidOn), amount: str(f.amount), reference: str(f.reference) }));
  act('promise', (q, a, f) => promiseToPay(q, a, { invoices: f.invoices as string[], date: str(f.date) }));
  act('plan', (q, a, f) => proposePlan(q, a, { invoices: f.invoices as string[], count: str(f.count), firstDate: str(f.firstDate) }));
  act('dispute', async (q, a, f) => {
    const upload = f.attachment;
    const attachment = upload instanceof File && upload.size > 0 ? { filename: upload.name, bytes: new Uint8Array(await upload.arrayBuffer()) } : null;
    return raiseDispute(q, a, { invoices: f.invoices as string[], reason: str(f.reason), comment: str(f.comment), attachment });
  });
  act('contact', (q, a, f) => updateBillingContact(q, a, { name: str(f.name), email: str(f.email), phone: str(f.phone) }));
  act('check', (q, a, f) => answerCheck(q, a, { invoice: String(f.invoice), answer: str(f.answer), reason: str(f.reason), comment: str(f.comment) }));
}

/** A fresh form key for callers that post without the page (tests, integrations). */
export const newFormKey = () => randomBytes(16).toString('base64url');

/**
 * The portal's pages, rendered on the server as plain HTML with forms: no script at all, so the
 * first page loads no JavaScript, works in any browser and with assistive technologies (every
 * field labelled, forms grouped in fieldsets, visible focus, contrast of at least 4.5:1, one
 * column at 390 px with the tables read as cards). Every value is escaped; every text comes from
 * src/portal/messages.ts in the customer's language.
 */
import { randomBytes } from 'node:crypto';
import { addDays, type CalendarDate, formatLongDate, isCalendarDate } from '../domain/dates.ts';
import { formatMoney } from '../domain/money.ts';
import { epcQrMatrix } from '../documents/qr.ts';
import type { Lang } from '../i18n/index.ts';
import type { PortalRefusal } from './actions.ts';
import { DISPUTE_REASONS } from './actions.ts';
import type { PortalSettings } from './links.ts';
import { type PortalMessageKey, pt } from './messages.ts';
import type { PortalCurrencyGroup, PortalHistoryItem, PortalInvoice, PortalView } from './view.ts';

export const esc = (s: unknown) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1b1f24;background:#f4f5f7}
a{color:#0b4f8a}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:1}
header{background:#fff;border-top:6px solid var(--brand);padding:16px}
header .bar{max-width:960px;margin:0 auto;display:flex;flex-wrap:wrap;gap:8px;justify-content:space-between;align-items:baseline}
h1{font-size:1.4rem;margin:0}
h2{font-size:1.2rem;margin:0 0 12px}
h3{font-size:1.05rem;margin:0 0 8px}
main{max-width:960px;margin:0 auto;padding:16px}
section,.card{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:16px;margin:0 0 16px}
.notice{border-left:6px solid #1d6b2f;background:#eef7f0}
.problem{border-left:6px solid #a4161a;background:#fbeeee}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:0 0 8px}
th,td{text-align:left;padding:8px;border-bottom:1px solid #e3e7eb;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}
.overdue{color:#a4161a;font-weight:600}
.muted{color:#4d5661}
dl.pay{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
dl.pay dt{font-weight:600}dl.pay dd{margin:0;overflow-wrap:anywhere}
.qr{display:flex;gap:16px;align-items:center;flex-wrap:wrap;margin-top:12px}
.qr svg{width:160px;height:160px;background:#fff}
details{border:1px solid #d5dbe1;border-radius:6px;margin:0 0 12px;background:#fff}
summary{cursor:pointer;padding:12px 16px;font-weight:600;min-height:44px}
details form{padding:0 16px 16px}
fieldset{border:0;padding:0;margin:0 0 12px}
legend{font-weight:600;padding:0;margin-bottom:4px}
label{display:block;font-weight:600;margin:8px 0 4px}
.check label{display:flex;gap:8px;align-items:flex-start;font-weight:400;margin:4px 0}
.check input{width:20px;height:20px;margin-top:2px;flex:none}
input[type=text],input[type=email],input[type=tel],input[type=date],input[type=number],select,textarea{width:100%;max-width:420px;font:inherit;padding:8px;border:1px solid #6b7580;border-radius:4px;background:#fff;color:#1b1f24}
textarea{min-height:90px}
input[type=file]{font:inherit;max-width:100%}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:10px 18px;min-height:44px;border-radius:4px;border:2px solid #0b4f8a;background:#0b4f8a;color:#fff;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:#0b4f8a}
.help{color:#4d5661;margin:0 0 8px}
ul.history{margin:0;padding-left:20px}
footer{max-width:960px;margin:0 auto;padding:8px 16px 32px;color:#4d5661;font-size:.9rem}
@media (max-width:640px){
 header{padding:12px}main{padding:8px}section,.card{padding:12px}
 table.invoices thead{position:absolute;left:-9999px}
 table.invoices caption{display:block;width:100%}
 table.invoices,table.invoices tbody,table.invoices tr,table.invoices td{display:block;width:100%}
 table.invoices tr{border:1px solid #e3e7eb;border-radius:6px;margin:0 0 8px;padding:4px 0}
 table.invoices td{border:0;padding:4px 8px;display:flex;justify-content:space-between;gap:12px;text-align:right}
 table.invoices td::before{content:attr(data-label);font-weight:600;text-align:left}
 table.invoices tfoot td{display:block}
}`;

export const PORTAL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function layout(lang: Lang, title: string, colour: string, body: string, opts: { langHref?: string; orgName?: string } = {}): string {
  const other: Lang = lang === 'fr' ? 'en' : 'fr';
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">
<title>${esc(title)}</title><style>:root{--brand:${/^#[0-9a-fA-F]{6}$/.test(colour) ? colour : '#1F4E79'}}${CSS}</style></head>
<body><a class="skip" href="#main">${esc(pt(lang, 'skip'))}</a>
<header><div class="bar"><h1>${esc(title)}</h1>${opts.langHref ? `<a href="${esc(opts.langHref)}" lang="${other}" hreflang="${other}" aria-label="${esc(pt(lang, 'lang_switch_label'))}">${esc(pt(lang, 'lang_switch'))}</a>` : ''}</div></header>
<main id="main" tabindex="-1">${body}</main>
${opts.orgName ? `<footer>${esc(pt(lang, 'footer', { org: opts.orgName }))}</footer>` : ''}
</body></html>`;
}

/** The one page every refused link gets: nothing about why. */
export function refusedPage(lang: Lang): string {
  return layout(lang, pt(lang, 'refused_title'), '#1F4E79', `<section><p>${esc(pt(lang, 'refused_text'))}</p></section>`);
}

export function limitedPage(lang: Lang): string {
  return layout(lang, pt(lang, 'limited_title'), '#1F4E79', `<section><p>${esc(pt(lang, 'limited_text'))}</p></section>`);
}

/** A refusal in the customer's words: dates written out, amounts formatted. */
export function refusalText(lang: Lang, r: PortalRefusal, currency?: string): string {
  const vars: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r.vars)) vars[k] = typeof v === 'string' && isCalendarDate(v) ? formatLongDate(v, lang) : v;
  if (r.key === 'err_plan_min') vars.min = formatMoney(BigInt(String(r.vars.min)), String(r.vars.currency ?? currency ?? 'EUR'), lang);
  return pt(lang, r.key, vars);
}

function qrSvg(payload: string, label: string): string {
  const m = epcQrMatrix(payload);
  const quiet = 4;
  const n = m.size + quiet * 2;
  let path = '';
  for (let y = 0; y < m.size; y++) for (let x = 0; x < m.size; x++) if (m.modules[y * m.size + x]) path += `M${x + quiet} ${y + quiet}h1v1h-1z`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n} ${n}" role="img" aria-label="${esc(label)}" shape-rendering="crispEdges"><rect width="${n}" height="${n}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}

function stateText(lang: Lang, i: PortalInvoice): string {
  if (i.state) return pt(lang, `state_${i.state}` as PortalMessageKey);
  return i.overdue ? pt(lang, 'state_overdue', { days: i.daysPastDue }) : pt(lang, 'state_due');
}

function invoicesTable(lang: Lang, base: string, g: PortalCurrencyGroup): string {
  const overdueAny = g.invoices.some((i) => i.interest || i.indemnity);
  const head = ['col_number', 'col_issued', 'col_due', 'col_amount', 'col_open', 'col_status', 'col_pdf'] as const;
  const rows = g.invoices
    .map((i) => {
      const cells = [
        `<td data-label="${esc(pt(lang, 'col_number'))}">${esc(i.number)}</td>`,
        `<td data-label="${esc(pt(lang, 'col_issued'))}">${esc(i.issueDate)}</td>`,
        `<td data-label="${esc(pt(lang, 'col_due'))}">${esc(i.dueDate)}</td>`,
        `<td class="num" data-label="${esc(pt(lang, 'col_amount'))}">${esc(i.amount)}</td>`,
        `<td class="num" data-label="${esc(pt(lang, 'col_open'))}"><strong>${esc(i.open)}</strong></td>`,
        `<td data-label="${esc(pt(lang, 'col_status'))}"${!i.state && i.overdue ? ' class="overdue"' : ''}>${esc(stateText(lang, i))}</td>`,
        ...(overdueAny
          ? [
              `<td class="num" data-label="${esc(pt(lang, 'penalties_col_interest'))}">${esc(i.interest ?? '—')}</td>`,
              `<td class="num" data-label="${esc(pt(lang, 'penalties_col_indemnity'))}">${esc(i.indemnity ?? '—')}</td>`,
            ]
          : []),
        `<td data-label="${esc(pt(lang, 'col_pdf'))}">${
          i.hasPdf ? `<a href="${esc(`${base}/invoices/${i.id}/pdf`)}">${esc(pt(lang, 'pdf_link', { number: i.number }))}</a>` : `<span class="muted">${esc(pt(lang, 'pdf_none'))}</span>`
        }</td>`,
      ];
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  const headCells = head
    .slice(0, 6)
    .map((k) => `<th scope="col"${k === 'col_amount' || k === 'col_open' ? ' class="num"' : ''}>${esc(pt(lang, k))}</th>`)
    .concat(overdueAny ? [`<th scope="col" class="num">${esc(pt(lang, 'penalties_col_interest'))}</th>`, `<th scope="col" class="num">${esc(pt(lang, 'penalties_col_indemnity'))}</th>`] : [])
    .concat([`<th scope="col">${esc(pt(lang, 'col_pdf'))}</th>`]);
  return `<table class="invoices"><caption>${esc(pt(lang, 'invoices_caption', { currency: g.currency }))}</caption>
<thead><tr>${headCells.join('')}</tr></thead>
<tbody>${rows}</tbody></table>
<p><strong>${esc(pt(lang, 'total_open', { amount: g.openTotal }))}</strong>${g.penalties.anyOverdue ? ` — ${esc(pt(lang, 'total_overdue', { amount: g.overdueTotal }))}` : ''}</p>
<p><a href="${esc(`${base}/statement/${g.currency}/pdf`)}">${esc(pt(lang, 'statement_link'))}</a></p>`;
}

function penaltiesBlock(lang: Lang, g: PortalCurrencyGroup): string {
  const p = g.penalties;
  if (!p.anyOverdue) return '';
  const parts: string[] = [];
  if (p.applicable) {
    parts.push(pt(lang, 'penalties_law', { law: p.law, basis: p.interestBasis }));
    if (p.indemnityApplicable && p.indemnityRule) parts.push(pt(lang, 'penalties_indemnity', { rule: p.indemnityRule }));
    parts.push(p.indemnityApplicable ? pt(lang, 'penalties_amounts', { interest: p.interest, indemnity: p.indemnity }) : pt(lang, 'penalties_amounts_no_indemnity', { interest: p.interest }));
  } else if (p.fromNotice) {
    parts.push(pt(lang, 'penalties_from_notice', { law: p.law }));
  }
  if (!parts.length) return '';
  return `<h3>${esc(pt(lang, 'penalties_heading'))}</h3><p>${parts.map(esc).join(' ')}</p>`;
}

function paymentBlock(lang: Lang, base: string, g: PortalCurrencyGroup, online: boolean): string {
  const p = g.payment;
  const rows = p.iban
    ? `<p>${esc(pt(lang, 'pay_transfer', { beneficiary: p.beneficiary }))}</p>
<dl class="pay"><dt>${esc(pt(lang, 'pay_amount'))}</dt><dd>${esc(p.amount)}</dd>
<dt>${esc(pt(lang, 'pay_iban'))}</dt><dd>${esc(p.iban)}</dd>
${p.bic ? `<dt>${esc(pt(lang, 'pay_bic'))}</dt><dd>${esc(p.bic)}</dd>` : ''}
<dt>${esc(pt(lang, 'pay_reference'))}</dt><dd><strong>${esc(p.reference ?? p.remittance)}</strong></dd></dl>
${p.epc ? `<div class="qr">${qrSvg(p.epc, pt(lang, 'pay_qr_alt', { amount: p.amount, beneficiary: p.beneficiary }))}<p class="muted">${esc(pt(lang, 'pay_qr'))}</p></div>` : ''}`
    : `<p>${esc(pt(lang, 'pay_no_iban'))}</p>`;
  const pay = online ? `<p><a class="button" href="${esc(`${base}/pay/${g.currency}`)}">${esc(pt(lang, 'pay_online', { amount: g.openTotal }))}</a></p><p class="help">${esc(pt(lang, 'pay_online_note'))}</p>` : '';
  return `<h3>${esc(pt(lang, 'pay_heading'))}</h3>${rows}${pay}`;
}

const formKey = () => randomBytes(16).toString('base64url');

function hidden(lang: Lang): string {
  return `<input type="hidden" name="key" value="${formKey()}"><input type="hidden" name="lang" value="${lang}">`;
}

function invoicePicker(lang: Lang, groups: PortalCurrencyGroup[], selectable: (i: PortalInvoice) => boolean): string {
  const items = groups.flatMap((g) => g.invoices).filter(selectable);
  return `<fieldset class="check"><legend>${esc(pt(lang, 'pick_invoices'))}</legend>
${items.map((i) => `<label><input type="checkbox" name="invoices" value="${esc(i.id)}"${items.length === 1 ? ' checked' : ''}> ${esc(pt(lang, 'invoice_option', { number: i.number, open: i.open }))}</label>`).join('\n')}
</fieldset>`;
}

function actionForms(lang: Lang, base: string, v: PortalView, s: PortalSettings): string {
  const groups = v.groups;
  if (!groups.length) return '';
  const cur = groups[0]!.currency;
  const open = (i: PortalInvoice) => i.state !== 'disputed';
  const free = (i: PortalInvoice) => i.state === null || i.state === 'checking';
  const f = (name: string, key: PortalMessageKey, help: string, inner: string, opts: { multipart?: boolean } = {}) =>
    `<details id="${name}"><summary>${esc(pt(lang, key))}</summary>
<form method="post" action="${esc(`${base}/${name}`)}"${opts.multipart ? ' enctype="multipart/form-data"' : ''}>
<p class="help">${esc(help)}</p>${hidden(lang)}${inner}
<button type="submit">${esc(pt(lang, 'submit'))}</button></form></details>`;
  const latestPromise = addDays(v.today, s.promiseMaxDays);
  const latestFirst = addDays(v.today, s.planMaxFirstDays);
  return `<section aria-labelledby="actions-h"><h2 id="actions-h">${esc(pt(lang, 'actions_heading'))}</h2>
${f(
  'paid',
  'paid_heading',
  pt(lang, 'paid_help'),
  `${invoicePicker(lang, groups, open)}
<label for="paid-date">${esc(pt(lang, 'paid_date'))}</label><input type="date" id="paid-date" name="paidOn" required max="${v.today}" value="${v.today}">
<label for="paid-amount">${esc(pt(lang, 'paid_amount', { currency: cur }))}</label><input type="text" inputmode="decimal" id="paid-amount" name="amount" required autocomplete="off">
<label for="paid-ref">${esc(pt(lang, 'paid_reference'))}</label><input type="text" id="paid-ref" name="reference" maxlength="140" autocomplete="off">`,
)}
${f(
  'promise',
  'promise_heading',
  pt(lang, 'promise_help', { date: formatLongDate(latestPromise, lang) }),
  `${invoicePicker(lang, groups, free)}
<label for="promise-date">${esc(pt(lang, 'promise_date'))}</label><input type="date" id="promise-date" name="date" required min="${v.today}" max="${latestPromise}">`,
)}
${f(
  'plan',
  'plan_heading',
  pt(lang, 'plan_help', { max: s.planMaxInstalments, min: formatMoney(s.planMinInstalmentMinor, cur, lang), date: formatLongDate(latestFirst, lang) }),
  `${invoicePicker(lang, groups, free)}
<label for="plan-count">${esc(pt(lang, 'plan_count'))}</label><select id="plan-count" name="count">${Array.from({ length: s.planMaxInstalments - 1 }, (_, k) => `<option value="${k + 2}">${k + 2}</option>`).join('')}</select>
<label for="plan-first">${esc(pt(lang, 'plan_first'))}</label><input type="date" id="plan-first" name="firstDate" required min="${v.today}" max="${latestFirst}">`,
)}
${f(
  'dispute',
  'dispute_heading',
  pt(lang, 'dispute_help'),
  `${invoicePicker(lang, groups, open)}
<label for="dispute-reason">${esc(pt(lang, 'dispute_reason'))}</label><select id="dispute-reason" name="reason" required>${DISPUTE_REASONS.map((r) => `<option value="${r}">${esc(pt(lang, `reason_${r}` as PortalMessageKey))}</option>`).join('')}</select>
<label for="dispute-comment">${esc(pt(lang, 'dispute_comment'))}</label><textarea id="dispute-comment" name="comment" maxlength="2000"></textarea>
<label for="dispute-file">${esc(pt(lang, 'dispute_file', { max: Math.floor(s.attachmentMaxBytes / 1024 / 1024) || 1 }))}</label><input type="file" id="dispute-file" name="attachment" accept="application/pdf,image/png,image/jpeg">`,
  { multipart: true },
)}
${f(
  'contact',
  'contact_heading',
  pt(lang, 'contact_help'),
  `<label for="contact-name">${esc(pt(lang, 'contact_name'))}</label><input type="text" id="contact-name" name="name" required autocomplete="name" value="${esc(v.contact.name ?? '')}">
<label for="contact-email">${esc(pt(lang, 'contact_email'))}</label><input type="email" id="contact-email" name="email" required autocomplete="email" value="${esc(v.contact.email ?? '')}">
<label for="contact-phone">${esc(pt(lang, 'contact_phone'))}</label><input type="tel" id="contact-phone" name="phone" autocomplete="tel" value="${esc(v.contact.phone ?? '')}">`,
)}
</section>`;
}

function historyText(lang: Lang, h: PortalHistoryItem): string {
  const d = h.data as Record<string, unknown>;
  const invoices = ((d.invoices as string[]) ?? []).join(', ');
  const money = (k: string) => formatMoney(BigInt(String(d[k] ?? '0')), String(d.currency ?? 'EUR'), lang);
  const day = (k: string) => (typeof d[k] === 'string' && isCalendarDate(d[k] as string) ? formatLongDate(d[k] as CalendarDate, lang) : '');
  const instalments = (d.instalments as Array<{ dueDate: CalendarDate }> | undefined) ?? [];
  switch (h.kind) {
    case 'paid':
      return pt(lang, 'h_paid', { amount: money('amountMinor'), date: day('paidOn'), invoices });
    case 'promise':
      return pt(lang, 'h_promise', { amount: money('amountMinor'), date: day('promisedOn'), invoices });
    case 'plan':
    case 'plan_request':
      return pt(lang, h.kind === 'plan' ? 'h_plan' : 'h_plan_request', { count: instalments.length, date: instalments[0] ? formatLongDate(instalments[0].dueDate, lang) : '', invoices });
    case 'dispute':
      return pt(lang, 'h_dispute', { invoices });
    case 'check_problem':
      return pt(lang, 'h_check_problem', { invoices });
    case 'check_ok':
      return pt(lang, 'h_check_ok', { invoices });
    case 'contact':
      return pt(lang, 'h_contact');
    default:
      return pt(lang, 'h_pay_online');
  }
}

export interface Flash {
  kind: 'done' | 'error';
  text: string;
}

export function portalPage(v: PortalView, s: PortalSettings, base: string, opts: { flash?: Flash | null; online: boolean; langHref: string }): string {
  const lang = v.lang;
  const o = v.organisation;
  const flash = opts.flash
    ? `<section class="${opts.flash.kind === 'done' ? 'notice' : 'problem'}" role="${opts.flash.kind === 'done' ? 'status' : 'alert'}">${
        opts.flash.kind === 'error' ? `<h2>${esc(pt(lang, 'error_heading'))}</h2>` : ''
      }<p>${esc(opts.flash.text)}</p></section>`
    : '';
  const contact = `<section aria-labelledby="org-h"><h2 id="org-h">${esc(pt(lang, 'org_contact'))}</h2>
<p><strong>${esc(o.name)}</strong>${o.address ? `<br>${esc(o.address)}` : ''}</p>
<dl class="pay">${o.email ? `<dt>${esc(pt(lang, 'org_email'))}</dt><dd><a href="mailto:${esc(o.email)}">${esc(o.email)}</a></dd>` : ''}${
    o.phone ? `<dt>${esc(pt(lang, 'org_phone'))}</dt><dd><a href="tel:${esc(o.phone.replace(/[^+\d]/g, ''))}">${esc(o.phone)}</a></dd>` : ''
  }${o.website ? `<dt>${esc(pt(lang, 'org_website'))}</dt><dd>${esc(o.website)}</dd>` : ''}</dl></section>`;
  const invoices = v.groups.length
    ? v.groups
        .map(
          (g) => `<section aria-labelledby="inv-${esc(g.currency)}"><h2 id="inv-${esc(g.currency)}">${esc(pt(lang, 'invoices_heading'))}</h2>
${invoicesTable(lang, base, g)}
${penaltiesBlock(lang, g)}
${paymentBlock(lang, base, g, opts.online)}</section>`,
        )
        .join('\n')
    : `<section><p>${esc(pt(lang, 'nothing_open'))}</p></section>`;
  const history = v.history.length
    ? `<section aria-labelledby="hist-h"><h2 id="hist-h">${esc(pt(lang, 'history_heading'))}</h2><ul class="history">${v.history
        .map((h) => `<li>${esc(historyText(lang, h))} — ${esc(pt(lang, 'h_on', { date: formatLongDate(h.at.slice(0, 10) as CalendarDate, lang) }))}</li>`)
        .join('')}</ul></section>`
    : '';
  const body = `${flash}
<p>${esc(pt(lang, 'hello', { name: v.customer.name }))} ${esc(pt(lang, 'intro', { org: o.name }))}</p>
${invoices}
${actionForms(lang, base, v, s)}
${history}
${contact}`;
  return layout(lang, pt(lang, 'title', { org: o.name }), o.colour, body, { langHref: opts.langHref, orgName: o.legalMentions });
}

/** The pre-due question on one invoice: two buttons, "no" with an optional comment. */
export function checkPage(v: PortalView, base: string, invoice: PortalInvoice | null, langHref: string): string {
  const lang = v.lang;
  const title = pt(lang, 'title', { org: v.organisation.name });
  if (!invoice) {
    return layout(lang, title, v.organisation.colour, `<section><p>${esc(pt(lang, 'check_done_already'))}</p><p><a href="${esc(`${base}?lang=${lang}`)}">${esc(pt(lang, 'back'))}</a></p></section>`, { langHref, orgName: v.organisation.legalMentions });
  }
  const body = `<section aria-labelledby="check-h"><h2 id="check-h">${esc(pt(lang, 'check_heading', { number: invoice.number }))}</h2>
<p>${esc(pt(lang, 'check_intro', { number: invoice.number, issued: invoice.issueDate, amount: invoice.amount, due: invoice.dueDate }))}</p>
<form method="post" action="${esc(`${base}/check`)}">${hidden(lang)}<input type="hidden" name="invoice" value="${esc(invoice.id)}"><input type="hidden" name="answer" value="yes">
<button type="submit">${esc(pt(lang, 'check_yes'))}</button></form>
<form method="post" action="${esc(`${base}/check`)}">${hidden(lang)}<input type="hidden" name="invoice" value="${esc(invoice.id)}"><input type="hidden" name="answer" value="no">
<label for="check-comment">${esc(pt(lang, 'check_no_comment'))}</label><textarea id="check-comment" name="comment" maxlength="2000"></textarea>
<p><button type="submit" class="secondary">${esc(pt(lang, 'check_no'))}</button></p></form>
<p><a href="${esc(`${base}?lang=${lang}`)}">${esc(pt(lang, 'back'))}</a></p></section>`;
  return layout(lang, title, v.organisation.colour, body, { langHref, orgName: v.organisation.legalMentions });
}

/**
 * A draft template rendered on the sample documents (the template editor's preview).
 */
import type { Queryable } from '../db/driver.ts';
import { isRelanceError, validation } from '../errors.ts';
import { defineErrors, type Lang } from '../i18n/index.ts';
import { composeDocument } from './compose.ts';
import { renderTemplate, validateTemplate } from './engine.ts';
import { assertTemplate, type Channel as DocChannel, CHANNEL_PARTS, type Part, partMode, TEMPLATES, type TemplateKey } from './registry.ts';
import { getBranding, loadTemplateOverrides } from './repo.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { sampleInput, sampleVariables } from './samples.ts';

const E = defineErrors('template-preview', {
  empty_template: { fr: "un modèle ne peut pas être vide", en: "a template cannot be empty" },
});

export interface TemplatePreviewInput {
  key: string;
  channel: string;
  lang: Lang;
  parts?: Record<string, string>;
  sample?: string;
}

/** Lets the requests waiting on the event loop run (between synchronous rendering steps). */
const yieldToOthers = () => new Promise<void>((r) => setImmediate(r));

let templateQueue: Promise<unknown> = Promise.resolve();
/** Template previews one after the other: their CPU work never piles up on the event loop at once. */
function oneTemplateAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = templateQueue.then(yieldToOthers).then(fn);
  templateQueue = run.catch(() => {});
  return run;
}

/** A draft template previewed, one at a time (see renderPreview). */
export function previewTemplate(q: Queryable, orgId: string, b: TemplatePreviewInput) {
  return oneTemplateAtATime(() => renderPreview(q, orgId, b));
}

/**
 * A draft template rendered on the sample documents. Rendering is synchronous work: previews run
 * one at a time, each part bounded by TEMPLATE_LIMITS.validateMs, yielding to other requests
 * between parts, so heavy drafts sent together cannot freeze the server.
 */
async function renderPreview(q: Queryable, orgId: string, b: TemplatePreviewInput) {
  const { key, channel } = assertTemplate(b.key, b.channel, { field: 'key' });
  const lang = b.lang;
  const draft = b.parts ?? {};
  const errors: { part: string; message: string; line: number | null }[] = [];
  for (const [part, source] of Object.entries(draft)) {
    if (!CHANNEL_PARTS[channel].includes(part as Part)) continue;
    await yieldToOthers();
    try {
      if (typeof source !== 'string' || !source.trim()) throw validation(E('empty_template'), { field: part });
      validateTemplate(source, { mode: partMode(channel, part as Part), lang, samples: sampleVariables(lang), place: { field: part } });
    } catch (e) {
      if (!isRelanceError(e)) throw e;
      errors.push({ part, message: e.message, line: (e.where as { line?: number } | undefined)?.line ?? null });
    }
  }
  const saved = await loadTemplateOverrides(q, orgId);
  // Invalid parts are previewed as saved (or built in): the error says why the draft cannot be used.
  const override = (k: TemplateKey, ch: DocChannel, l: Lang, part: Part) =>
    k === key && ch === channel && l === lang && draft[part] !== undefined && !errors.some((e) => e.part === part) ? draft[part]! : saved(k, ch, l, part);
  const input = sampleInput(b.sample === 'consumer' ? 'consumer' : 'business', lang, key, TEMPLATES[key].allOpenInvoices ? 3 : 1);
  const org = await getOrganisation(q, orgId);
  input.organisation = org;
  input.branding = { ...(await getBranding(q, orgId)) };
  await yieldToOthers();
  const composed = await composeDocument({ key, channel, input, override, creationDate: new Date(0) });
  const parts = renderTemplate(key, channel, lang, composed.vars, override);
  return {
    errors,
    subject: composed.subject,
    html: composed.html,
    text: composed.text,
    body: parts.body ?? null,
    pdf: composed.pdf ? composed.pdf.toString('base64') : null,
  };
}

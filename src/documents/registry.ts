/**
 * The built-in template set: which template keys exist, on which channels, with which parts, and
 * where their sources live (src/documents/templates/<lang>/<key>.<channel>.liquid).
 *
 * One file per (key, channel, language). A file with several parts (an email's subject, HTML and
 * text; a letter's subject and body) separates them with a line "=== part ===". SMS and call
 * scripts are a single part. Files starting with "_" are partials that templates include with
 * {% include 'name' %} (the only include a template can make: there is no file system behind it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound, validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, LANGS } from '../i18n/index.ts';

const E = defineErrors('documents-registry', {
  unknown_template: { fr: 'modèle « {key} » inconnu ; modèles existants : {known}', en: 'unknown template "{key}"; known: {known}' },
  unknown_channel: { fr: 'canal « {channel} » inconnu ; canaux possibles : {known}', en: 'unknown channel "{channel}"; known: {known}' },
  no_channel_version: { fr: 'le modèle « {key} » n’existe pas en version {channel} ; il existe pour {channels}', en: 'template "{key}" has no {channel} version; it exists for {channels}' },
  unknown_part: { fr: 'partie « {part} » inconnue pour le canal {channel}', en: 'unknown part "{part}" for channel {channel}' },
  part_missing: { fr: 'partie « {part} » manquante', en: 'part "{part}" missing' },
});

export const TEMPLATE_KEYS = [
  'courtesy',
  'due',
  'reminder',
  'firm',
  'final',
  'formal_notice',
  'handover',
  'statement',
  'payment_plan',
  'instalment',
  'promise',
  'dispute_ack',
  'portal_receipt',
  'call_j8',
  'call_j25',
] as const;
export type TemplateKey = (typeof TEMPLATE_KEYS)[number];

export const CHANNELS = ['email', 'sms', 'letter', 'call'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Part = 'subject' | 'html' | 'text' | 'body' | 'script';
export const CHANNEL_PARTS: Record<Channel, readonly Part[]> = {
  email: ['subject', 'html', 'text'],
  sms: ['text'],
  letter: ['subject', 'body'],
  call: ['script'],
};

/** How a part is rendered: HTML escapes every value; letter bodies may use the table tags. */
export type RenderMode = 'html' | 'text' | 'letter';
export function partMode(channel: Channel, part: Part): RenderMode {
  if (part === 'html') return 'html';
  if (channel === 'letter' && part === 'body') return 'letter';
  return 'text';
}

export interface TemplateSpec {
  channels: readonly Channel[];
  /** The document claims interest and compensation in the amount to pay. */
  claimPenalties: boolean;
  /** Days given to pay, printed as the deadline. */
  deadlineDays: number;
  /** The statement concerns every open invoice of the customer, not one. */
  allOpenInvoices: boolean;
  /** Sent as registered mail with acknowledgement of receipt (the letter says so above the address). */
  registered: boolean;
  /** Letters print the payment box (amount, IBAN, RF reference, QR code). */
  paymentBox: boolean;
  /**
   * The wording speaks of the due date as today or to come ("is due today", "falls due on ..."): the
   * message may leave up to the due date and never after it (the outbox skips it, with the reason).
   */
  untilDueDate?: boolean;
}

export const TEMPLATES: Record<TemplateKey, TemplateSpec> = {
  courtesy: { channels: ['email', 'sms'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true, untilDueDate: true },
  due: { channels: ['email', 'sms'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true, untilDueDate: true },
  reminder: { channels: ['email', 'sms', 'letter'], claimPenalties: false, deadlineDays: 8, allOpenInvoices: false, registered: false, paymentBox: true },
  firm: { channels: ['email', 'sms', 'letter'], claimPenalties: false, deadlineDays: 8, allOpenInvoices: false, registered: false, paymentBox: true },
  final: { channels: ['email', 'sms', 'letter'], claimPenalties: false, deadlineDays: 8, allOpenInvoices: false, registered: false, paymentBox: true },
  formal_notice: { channels: ['email', 'letter'], claimPenalties: true, deadlineDays: 8, allOpenInvoices: false, registered: true, paymentBox: true },
  handover: { channels: ['email', 'letter'], claimPenalties: true, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true },
  statement: { channels: ['email', 'letter'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: true, registered: false, paymentBox: true },
  payment_plan: { channels: ['email', 'letter'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true },
  instalment: { channels: ['email', 'sms'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true },
  promise: { channels: ['email', 'sms'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: true },
  dispute_ack: { channels: ['email', 'letter'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: false },
  portal_receipt: { channels: ['email'], claimPenalties: false, deadlineDays: 0, allOpenInvoices: false, registered: false, paymentBox: false },
  call_j8: { channels: ['call'], claimPenalties: false, deadlineDays: 8, allOpenInvoices: false, registered: false, paymentBox: false },
  call_j25: { channels: ['call'], claimPenalties: false, deadlineDays: 8, allOpenInvoices: false, registered: false, paymentBox: false },
};

export const TEMPLATE_LABELS = defineMessages({
  courtesy: { fr: 'Rappel courtois avant échéance', en: 'Courtesy notice before the due date' },
  due: { fr: 'Rappel le jour de l’échéance', en: 'Due-day reminder' },
  reminder: { fr: 'Première relance (amicale)', en: 'First reminder (friendly)' },
  firm: { fr: 'Deuxième relance (ferme)', en: 'Second reminder (firm)' },
  final: { fr: 'Dernier rappel avant mise en demeure', en: 'Final notice before formal notice' },
  formal_notice: { fr: 'Mise en demeure', en: 'Formal notice' },
  handover: { fr: 'Transmission au recouvrement', en: 'Handover to collection' },
  statement: { fr: 'Relevé de compte', en: 'Statement of account' },
  payment_plan: { fr: 'Confirmation d’échéancier', en: 'Payment plan confirmation' },
  instalment: { fr: 'Rappel d’une échéance de l’échéancier', en: 'Payment plan instalment reminder' },
  promise: { fr: 'Confirmation de promesse de paiement', en: 'Promise-to-pay confirmation' },
  dispute_ack: { fr: 'Accusé de réception de contestation', en: 'Dispute acknowledgement' },
  portal_receipt: { fr: 'Confirmation d’une démarche sur l’espace client', en: 'Customer portal confirmation' },
  call_j8: { fr: 'Script d’appel à J+8', en: 'Call script, 8 days overdue' },
  call_j25: { fr: 'Script d’appel à J+25', en: 'Call script, 25 days overdue' },
});

export function isTemplateKey(s: string): s is TemplateKey {
  return (TEMPLATE_KEYS as readonly string[]).includes(s);
}

/** Templates that claim interest and compensation (formal notice, handover): they wait while a rate they need is provisional. */
export const claimsPenalties = (template: string) => isTemplateKey(template) && TEMPLATES[template].claimPenalties;

export function assertTemplate(key: string, channel: string, where = { field: '--template' }): { key: TemplateKey; channel: Channel } {
  if (!isTemplateKey(key)) throw validation(E('unknown_template', { key, known: TEMPLATE_KEYS.join(', ') }), where);
  if (!(CHANNELS as readonly string[]).includes(channel)) throw validation(E('unknown_channel', { channel, known: CHANNELS.join(', ') }), { field: '--channel' });
  const spec = TEMPLATES[key];
  if (!spec.channels.includes(channel as Channel)) {
    throw validation(E('no_channel_version', { key, channel, channels: spec.channels.join(', ') }), { field: '--channel' });
  }
  return { key, channel: channel as Channel };
}

// ------------------------------------------------------------------ built-in sources

export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'templates');

export interface SourcePart {
  source: string;
  /** File and first line of the part inside it, so errors in built-in files point at the right line. */
  file: string;
  line: number;
}

/** Split a template file into its parts ("=== part ===" lines); a single-part file is all one part. */
export function splitParts(text: string, channel: Channel, file: string): Record<string, SourcePart> {
  const parts = CHANNEL_PARTS[channel];
  if (parts.length === 1) return { [parts[0]!]: { source: text, file, line: 1 } };
  const out: Record<string, SourcePart> = {};
  const lines = text.split('\n');
  let current: string | null = null;
  let start = 0;
  const close = (end: number) => {
    if (current) out[current] = { source: lines.slice(start, end).join('\n').replace(/\n+$/, ''), file, line: start + 1 };
  };
  lines.forEach((l, i) => {
    const m = /^=== (\w+) ===\s*$/.exec(l);
    if (!m) return;
    close(i);
    current = m[1]!;
    if (!parts.includes(current as Part)) throw validation(E('unknown_part', { part: current, channel }), { file, line: i + 1 });
    start = i + 1;
  });
  close(lines.length);
  for (const p of parts) if (!(p in out)) throw validation(E('part_missing', { part: p }), { file });
  return out;
}

let builtIn: Map<string, SourcePart> | null = null;
let partials: Map<string, Record<string, string>> | null = null;

const builtInKey = (lang: Lang, key: string, channel: Channel, part: Part) => `${lang}/${key}.${channel}.${part}`;

function loadBuiltIn() {
  if (builtIn) return;
  builtIn = new Map();
  partials = new Map();
  for (const lang of LANGS) {
    const dir = join(TEMPLATES_DIR, lang);
    const p: Record<string, string> = {};
    for (const f of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, f), 'utf8');
      const file = `src/documents/templates/${lang}/${f}`;
      let m = /^_(\w+)\.(html|text)\.liquid$/.exec(f);
      if (m) {
        p[`${m[2]}:${m[1]}`] = text.replace(/\n$/, '');
        continue;
      }
      m = /^(\w+)\.(email|sms|letter|call)\.liquid$/.exec(f);
      if (!m) continue;
      const channel = m[2] as Channel;
      for (const [part, sp] of Object.entries(splitParts(text, channel, file))) builtIn.set(builtInKey(lang, m[1]!, channel, part as Part), sp);
    }
    partials.set(lang, p);
  }
}

export function builtInSource(lang: Lang, key: TemplateKey, channel: Channel, part: Part): SourcePart {
  loadBuiltIn();
  const sp = builtIn!.get(builtInKey(lang, key, channel, part));
  if (!sp) throw notFound('template', builtInKey(lang, key, channel, part));
  return sp;
}

/** Partials of a language for a mode: name -> source. */
export function builtInPartials(lang: Lang, mode: 'html' | 'text'): Record<string, string> {
  loadBuiltIn();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(partials!.get(lang) ?? {})) {
    const [m, name] = k.split(':') as [string, string];
    if (m === mode) out[name] = v;
  }
  return out;
}

/** Every (key, channel, lang) of the built-in set. */
export function* builtInCombinations(): Generator<{ key: TemplateKey; channel: Channel; lang: Lang }> {
  for (const key of TEMPLATE_KEYS) for (const channel of TEMPLATES[key].channels) for (const lang of LANGS) yield { key, channel, lang };
}

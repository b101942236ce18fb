/**
 * Template rendering and validation with liquidjs, sandboxed so that templates edited in the web
 * app can run no code and read no file:
 *  - no file system: {% include %} / {% render %} resolve only the built-in partials held in memory;
 *  - strict variables and filters: a misspelt name is an error, never a silent blank;
 *  - own properties only (no prototype walking), and limits on template size, render time, memory
 *    and output so a loop cannot take the server down: a template is refused when saved or
 *    previewed if rendering the sample documents takes more than TEMPLATE_LIMITS.validateMs or
 *    writes more than TEMPLATE_LIMITS.outputChars; when a message is sent, the budget is
 *    TEMPLATE_LIMITS.sendMs (real data may hold more invoices than the samples);
 *  - HTML parts escape every value by default (outputEscape 'escape').
 */
import { Drop, Liquid, type Template } from 'liquidjs';
import { type ErrorPlace, isRelanceError, type RelanceError, validation } from '../errors.ts';
import { defineErrors, type Lang, type Text } from '../i18n/index.ts';
import { builtInPartials, builtInSource, type Channel, CHANNEL_PARTS, type Part, partMode, type RenderMode, type TemplateKey } from './registry.ts';
import { frenchTypography, frenchTypographyHtml, smsSpaces } from './typography.ts';
import { type TemplateVariables, VARIABLES, type VarDoc } from './variables.ts';

const E = defineErrors('documents-template', {
  template_error: { fr: 'erreur dans le modèle : {reason}', en: '{reason}' },
  is_a_list: { fr: '« {path} » est une liste : utilisez une boucle {% for %} ou {path}.first', en: '"{path}" is a list: use a {% for %} loop or {path}.first' },
  no_such_field: { fr: '« {path} » n’a pas de champ « {field} »', en: '"{path}" has no field "{field}"' },
  unknown_variable: { fr: 'variable « {name} » inconnue', en: 'unknown variable "{name}"' },
  not_a_list_field: { fr: '« {field} » n’est un champ d’aucune liste ({expr})', en: '"{field}" is not a field of any list ({expr})' },
  too_slow: {
    fr: 'le modèle met plus de {ms} ms à se rendre : simplifiez ses boucles (une boucle sur une plage ou des boucles imbriquées)',
    en: 'the template takes more than {ms} ms to render: simplify its loops (a loop over a range, or nested loops)',
  },
  too_much_memory: { fr: 'le modèle construit trop de données en se rendant : simplifiez ses boucles et ses filtres', en: 'the template builds too much data while rendering: simplify its loops and filters' },
  too_much_output: { fr: 'le modèle produit plus de {kb} Ko de texte : un message ne dépasse pas cette taille', en: 'the template writes more than {kb} KB of text: no message is that long' },
});

/**
 * Budgets of one template: rendering the sample documents when a template is saved or previewed
 * (what a normal template needs is a few milliseconds), rendering one message when it is sent,
 * the largest text a part may produce, and what liquidjs counts as memory (strings and arrays
 * built by filters and ranges).
 */
export const TEMPLATE_LIMITS = { validateMs: 200, sendMs: 1000, outputChars: 1_000_000, memory: 10_000_000 } as const;

/** Markers the letter tags leave in a rendered body, replaced by tables in the PDF. */
export const LETTER_BLOCKS = ['invoice_table', 'amounts_table'] as const;
export type LetterBlock = (typeof LETTER_BLOCKS)[number];
export const blockMarker = (b: LetterBlock) => `\uE000${b}\uE000`;

const engines = new Map<string, Liquid>();

function engine(mode: RenderMode, lang: Lang): Liquid {
  const id = `${mode}:${lang}`;
  let e = engines.get(id);
  if (e) return e;
  e = new Liquid({
    templates: builtInPartials(lang, mode === 'html' ? 'html' : 'text'),
    relativeReference: false,
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    outputEscape: mode === 'html' ? 'escape' : undefined,
    parseLimit: 200_000,
    renderLimit: TEMPLATE_LIMITS.sendMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
    // The built-in partials ({% include %}) are parsed once per engine, not at every render: they
    // are fixed (held in memory, per mode and language), and only they can be included.
    cache: true,
  });
  if (mode === 'letter') {
    for (const b of LETTER_BLOCKS) {
      e.registerTag(b, {
        parse() {},
        render(_ctx, emitter) {
          emitter.write(`\n${blockMarker(b)}\n`);
        },
      });
    }
  }
  engines.set(id, e);
  return e;
}

// Parsed templates by source: the built-in set and organisation templates are parsed once.
const parsed = new Map<string, Template[]>();
function parse(mode: RenderMode, lang: Lang, source: string): Template[] {
  const id = `${mode}:${lang}:${source}`;
  let t = parsed.get(id);
  if (!t) {
    t = engine(mode, lang).parse(source);
    if (parsed.size > 2000) parsed.clear();
    parsed.set(id, t);
  }
  return t;
}

/** liquidjs messages end with ", line:3, col:4"; the position goes to `where`, the rest is the reason. */
function liquidError(e: unknown, place: ErrorPlace = {}, lineOffset = 0, budgetMs: number = TEMPLATE_LIMITS.sendMs): RelanceError {
  if (isRelanceError(e)) return e;
  const err = e as Error & { token?: { getPosition?: () => [number, number] } };
  // The limits of liquidjs, in words a template's author can act on (no line: the whole render is at fault).
  if (/render limit exceeded/.test(err.message ?? '')) return validation(E('too_slow', { ms: budgetMs }), place);
  if (/memory limit exceeded/.test(err.message ?? '')) return validation(E('too_much_memory'), place);
  const pos = err.token?.getPosition?.();
  const m = /,? line:(\d+), col:(\d+)/.exec(err.message ?? '');
  const line = pos?.[0] ?? (m ? Number(m[1]) : undefined);
  const reason = (err.message ?? String(e)).replace(/,? line:\d+, col:\d+.*$/s, '').trim();
  return validation(E('template_error', { reason }), { ...place, line: line === undefined ? undefined : line + lineOffset }, { column: pos?.[1] });
}

/** Output clean-up shared by every part: no trailing spaces, at most one blank line in a row. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '')
    .replace(/\n+$/, '');
}

function checkOutput(out: string, place: ErrorPlace | undefined): void {
  if (out.length > TEMPLATE_LIMITS.outputChars) throw validation(E('too_much_output', { kb: Math.round(TEMPLATE_LIMITS.outputChars / 1000) }), place);
}

export function renderSource(source: string, mode: RenderMode, lang: Lang, vars: TemplateVariables, place?: ErrorPlace): string {
  let out: string;
  try {
    out = engine(mode, lang).renderSync(parse(mode, lang, source), vars) as string;
  } catch (e) {
    throw liquidError(e, place, place?.line ? place.line - 1 : 0);
  }
  checkOutput(out, place);
  if (mode === 'html') return lang === 'fr' ? frenchTypographyHtml(out.trim()) : out.trim();
  const text = tidy(out);
  return lang === 'fr' ? frenchTypography(text) : text;
}

/** Where the source of a part comes from: the organisation's version when it has one, else built-in. */
export type SourceLookup = (key: TemplateKey, channel: Channel, lang: Lang, part: Part) => string | null | undefined;

export interface RenderedParts {
  subject?: string;
  html?: string;
  text?: string;
  body?: string;
  script?: string;
}

/** Render every part of one template for one channel. */
export function renderTemplate(key: TemplateKey, channel: Channel, lang: Lang, vars: TemplateVariables, override?: SourceLookup): RenderedParts {
  const out: RenderedParts = {};
  for (const part of CHANNEL_PARTS[channel]) {
    const custom = override?.(key, channel, lang, part);
    const sp = custom != null ? { source: custom, file: `${key}.${channel}.${lang}`, line: 1 } : builtInSource(lang, key, channel, part);
    let text = renderSource(sp.source, partMode(channel, part), lang, vars, { file: sp.file, line: sp.line, field: part });
    // Not \s: it would also swallow the narrow no-break spaces of French typography.
    if (part === 'subject') text = text.replace(/[ \t\r\n]+/g, ' ').trim();
    if (channel === 'sms') text = smsSpaces(text).replace(/[ \t]+/g, ' ').replace(/\n{2,}/g, '\n').trim();
    out[part] = text;
  }
  return out;
}

// ------------------------------------------------------------------ validation

const LOOP_OBJECTS = new Set(['forloop', 'tablerowloop']);
const LIST_PROPS = new Set(['size', 'first', 'last']);

/** Item fields of every documented list: what a loop variable may be followed by. */
function listItemFields(): Set<string> {
  const names = new Set<string>();
  const walk = (docs: Record<string, VarDoc>) => {
    for (const d of Object.values(docs)) {
      if (d.type === 'list' && d.fields) for (const f of Object.keys(d.fields)) names.add(f);
      if (d.fields) walk(d.fields);
    }
  };
  walk(VARIABLES);
  return names;
}
const ITEM_FIELDS = listItemFields();

/** Why a documented path does not exist, or null when it does. */
function checkPath(segments: ReadonlyArray<string | number | unknown>): Text | null {
  let docs: Record<string, VarDoc> | undefined = VARIABLES;
  let doc: VarDoc | undefined;
  let path = '';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (typeof seg !== 'string' && typeof seg !== 'number') return null; // computed index: checked by the sample render
    if (doc?.type === 'list') {
      if (typeof seg === 'number' || seg === 'first' || seg === 'last') {
        doc = { type: 'object', fr: '', en: '', fields: doc.fields };
        docs = doc.fields;
        continue;
      }
      if (seg === 'size') return null;
      return E('is_a_list', { path });
    }
    if (doc && doc.type !== 'object') {
      if (seg === 'size' && doc.type === 'string') return null;
      return E('no_such_field', { path, field: String(seg) });
    }
    const name = String(seg);
    const next: VarDoc | undefined = docs?.[name];
    if (!next) return path ? E('no_such_field', { path, field: name }) : E('unknown_variable', { name });
    path = path ? `${path}.${name}` : name;
    doc = next;
    docs = next.fields;
  }
  return null;
}

/**
 * Stands for an optional object that is absent (null) in a sample: falsy in {% if %}, like null,
 * but reading a field of it is an error, so a template that forgets the test is refused when saved
 * rather than printing a blank on the day the value is missing.
 */
class AbsentValue extends Drop {
  constructor(private readonly name: string) {
    super();
  }
  override valueOf(): null {
    return null;
  }
  override liquidMethodMissing(key: string): never {
    throw new Error(`"${this.name}" may be absent: test it with {% if ${this.name} %} before reading ${this.name}.${key}`);
  }
}

function guardAbsent(vars: TemplateVariables): TemplateVariables {
  const out: TemplateVariables = { ...vars };
  for (const [name, doc] of Object.entries(VARIABLES)) if (doc.optional && doc.type === 'object' && out[name] === null) out[name] = new AbsentValue(name);
  return out;
}

export interface ValidateOptions {
  mode?: RenderMode;
  lang?: Lang;
  /** Variables the template is rendered with as a last check (sample documents, business and consumer). */
  samples?: readonly TemplateVariables[];
  place?: ErrorPlace;
}

/**
 * Refuse a template that would fail when sent: a syntax error, an unknown filter or tag, an unknown
 * variable or field, or an error when rendered against the sample documents. The error is a
 * RelanceError 'validation' whose `where.line` is the line in the source and whose message is the reason.
 */
export function validateTemplate(source: string, opts: ValidateOptions = {}): void {
  const mode = opts.mode ?? 'text';
  const lang = opts.lang ?? 'fr';
  const place = opts.place ?? {};
  const offset = place.line ? place.line - 1 : 0;
  let tpl: Template[];
  try {
    tpl = engine(mode, lang).parse(source);
  } catch (e) {
    throw liquidError(e, place, offset);
  }
  let analysis: ReturnType<Liquid['analyzeSync']>;
  try {
    analysis = engine(mode, lang).analyzeSync(tpl, { partials: true });
  } catch (e) {
    throw liquidError(e, place, offset);
  }
  const locals = new Set(Object.keys(analysis.locals));
  const globals = new Set(Object.keys(analysis.globals));
  for (const [name, uses] of Object.entries(analysis.variables)) {
    for (const v of uses) {
      const line = v.location?.row === undefined ? undefined : v.location.row + offset;
      if (LOOP_OBJECTS.has(name) || locals.has(name)) continue;
      if (globals.has(name)) {
        const why = checkPath(v.segments);
        if (why) throw validation(why, { ...place, line }, { column: v.location?.col });
        continue;
      }
      // A loop variable ({% for i in invoices %}): its field must be a field of some documented list.
      const field = v.segments[1];
      if (typeof field === 'string' && !LIST_PROPS.has(field) && !ITEM_FIELDS.has(field)) {
        throw validation(E('not_a_list_field', { field, expr: String(v) }), { ...place, line }, { column: v.location?.col });
      }
    }
  }
  // One budget for all the samples: a template that renders slowly is refused here, at save and
  // at preview, not found out when a message is sent. The budget is the CPU time the rendering
  // takes (a busy machine must not refuse an ordinary template); the wall clock only stops a
  // runaway render, at three times the budget.
  const cpu0 = process.cpuUsage();
  const deadline = performance.now() + 3 * TEMPLATE_LIMITS.validateMs;
  for (const vars of opts.samples ?? []) {
    let out: string;
    try {
      const renderLimit = Math.max(1, deadline - performance.now());
      out = engine(mode, lang).renderSync(tpl, guardAbsent(vars), { renderLimit }) as string;
    } catch (e) {
      throw liquidError(e, place, offset, TEMPLATE_LIMITS.validateMs);
    }
    const used = process.cpuUsage(cpu0);
    if ((used.user + used.system) / 1000 > TEMPLATE_LIMITS.validateMs) throw validation(E('too_slow', { ms: TEMPLATE_LIMITS.validateMs }), place);
    checkOutput(out, place);
  }
}

/**
 * Dunning scenarios: a named, versioned, ordered list of steps relative to the due date, with the
 * options that decide when messages may go out. Built-in scenarios follow the sequences quoted by
 * practitioners (docs/product.md, "The job"); organisations edit copies of them.
 */
import { validation } from '../../errors.ts';
import type { EscalationOptions } from './escalation.ts';
import { CHANNEL_KEYS, type ChannelKey, channelText } from '../channels.ts';
import { defineErrors } from '../../i18n/index.ts';
import { checkSending, DEFAULT_SENDING, type SendingField } from './sending.ts';

const E = defineErrors('scenario', {
  definition: { fr: "la définition du scénario (definition : options et étapes) est obligatoire", en: "the scenario definition (definition: options and steps) is required" },
  options: { fr: "les options du scénario sont obligatoires", en: "scenario options are required" },
  min_gap: { fr: "l’écart minimum doit être de 0 à 60 jours", en: "minimum gap must be 0 to 60 days" },
  grouping: { fr: "le regroupement doit être per_customer ou per_invoice", en: "grouping must be per_customer or per_invoice" },
  steps: { fr: "un scénario doit avoir au moins une étape", en: "a scenario needs at least one step" },
  offset: { fr: "le décalage doit être un nombre entier de jours entre -60 et 730", en: "offset must be whole days between -60 and 730" },
  channel: { fr: "canal inconnu « {channel} »", en: "unknown channel \"{channel}\"" },
  tone: { fr: "ton inconnu « {tone} »", en: "unknown tone \"{tone}\"" },
  template: { fr: "le modèle est obligatoire", en: "template is required" },
  step: { fr: "une étape se décrit par son jour, son canal, son modèle et son ton", en: "a step is described by its day, channel, template and tone" },
  approval: { fr: "la validation préalable vaut true ou false", en: "the approval flag is true or false" },
  customer_kind: { fr: "la condition sur le client vaut business (professionnel) ou consumer (particulier)", en: "the customer condition is business or consumer" },
  tags: { fr: "les étiquettes d’une condition sont une liste de textes", en: "a condition's tags are a list of texts" },
  fallback: { fr: "canal de repli inconnu « {channel} »", en: "unknown fallback channel \"{channel}\"" },
  duplicate_step: { fr: "deux étapes au jour {offset} sur le même canal ({channel})", en: "two steps at day {offset} on the same channel ({channel})" },
  min_overdue: { fr: "les montants minimum en retard s’expriment en centimes par devise", en: "minimum overdue amounts are minor units per currency" },
  escalation_flag: { fr: "{field} vaut true ou false", en: "{field} is true or false" },
  deadline_days: { fr: "le délai de la mise en demeure est de 1 à 60 jours", en: "the formal notice's deadline is 1 to 60 days" },
  postal_delay: { fr: "le délai postal est de 0 à 10 jours ouvrés", en: "the postal delay is 0 to 10 working days" },
});

/** The delivery channels a step may use (src/domain/channels.ts). */
export const CHANNELS: readonly ChannelKey[] = CHANNEL_KEYS;
export type Channel = ChannelKey;
export const TONES = ['courtesy', 'reminder', 'firm', 'final', 'formal_notice', 'handover'] as const;
export type Tone = (typeof TONES)[number];

export interface StepConditions {
  /** Minimum open overdue amount per currency, minor units as decimal strings (JSON-safe). */
  minOverdueMinor?: Record<string, string>;
  customerKind?: 'business' | 'consumer';
  /** The customer must carry at least one of these tags. */
  tags?: string[];
}

export interface Step {
  /** Days relative to the due date; negative = before. */
  offset: number;
  channel: Channel;
  template: string;
  tone: Tone;
  conditions?: StepConditions;
  requiresApproval?: boolean;
  fallbackChannel?: Channel;
}

export interface ScenarioOptions {
  workingDaysOnly: boolean;
  holidayCalendar: string;
  /** Sending window in the organisation's time zone, "HH:MM". */
  window: { start: string; end: string };
  /** Minimum days between two reminders to the same customer. */
  minGapDays: number;
  /** One message per customer listing its invoices at their step, or one per invoice. */
  grouping: 'per_customer' | 'per_invoice';
  /** Escalation prerequisites and the formal notice's deadline (escalation.ts; absent: the defaults). */
  escalation?: Partial<EscalationOptions>;
}

export interface ScenarioDefinition {
  options: ScenarioOptions;
  steps: Step[];
}

/**
 * A scenario as stored and edited: the sending options it leaves out follow the organisation's
 * (src/domain/engine/sending.ts resolves the effective ones).
 */
export type StoredScenarioOptions = Omit<ScenarioOptions, SendingField> & Partial<Pick<ScenarioOptions, SendingField>>;
export interface StoredScenarioDefinition {
  options: StoredScenarioOptions;
  steps: Step[];
}

export const DEFAULT_OPTIONS: ScenarioOptions = {
  ...DEFAULT_SENDING,
  minGapDays: 3,
  grouping: 'per_customer',
  escalation: {
    formalNoticeNeedsReminder: true,
    handoverNeedsFormalNotice: true,
    formalNoticeDeadlineDays: 8,
    postalDelayWorkingDays: 2,
  },
};

/** Identity of a step inside an invoice's history: its offset and channel, stable across versions. */
export const stepKey = (s: Pick<Step, 'offset' | 'channel'>) => `${s.offset}:${s.channel}`;

/**
 * Identity of a payment-plan instalment's reminder in an invoice's history. The prefix keeps them
 * apart from scenario steps: the planner ignores them, and the plan's own pause lets them through.
 */
export const INSTALMENT_STEP_PREFIX = 'plan';
export const instalmentStepKey = (planId: bigint, seq: number, offset: number, channel: string) =>
  `${INSTALMENT_STEP_PREFIX}${planId}#${seq}:${offset}:${channel}`;

/**
 * Identity of the acknowledgement of an agreement (promise, dispute, payment plan) in an invoice's
 * history: one per agreement and invoice, outside the scenario like an instalment's reminder.
 */
export const ACK_STEP_PREFIX = 'ack';
/** `portal`: the receipt of an action on the debtor portal that is no agreement (src/portal/actions.ts). */
export type AgreementKind = 'promise' | 'dispute' | 'payment_plan' | 'portal';
export const ackStepKey = (kind: AgreementKind, id: bigint) => `${ACK_STEP_PREFIX}:${kind}:${id}`;

export const BUILTIN_SCENARIOS: Record<string, { name: { fr: string; en: string }; definition: ScenarioDefinition }> = {
  'standard-b2b': {
    name: { fr: 'Standard B2B', en: 'Standard B2B' },
    definition: {
      options: DEFAULT_OPTIONS,
      steps: [
        { offset: -5, channel: 'email', template: 'courtesy', tone: 'courtesy' },
        { offset: 0, channel: 'email', template: 'due', tone: 'reminder' },
        { offset: 8, channel: 'call_task', template: 'call_j8', tone: 'reminder' },
        { offset: 20, channel: 'email', template: 'firm', tone: 'firm', fallbackChannel: 'letter' },
        { offset: 20, channel: 'letter', template: 'firm', tone: 'firm' },
        { offset: 25, channel: 'call_task', template: 'call_j25', tone: 'final' },
        { offset: 30, channel: 'registered_letter', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
        { offset: 45, channel: 'manual_task', template: 'handover', tone: 'handover' },
      ],
    },
  },
  weekly: {
    name: { fr: 'Hebdomadaire', en: 'Weekly' },
    definition: {
      options: DEFAULT_OPTIONS,
      steps: [
        { offset: -7, channel: 'email', template: 'courtesy', tone: 'courtesy' },
        { offset: 0, channel: 'email', template: 'due', tone: 'reminder' },
        { offset: 7, channel: 'email', template: 'reminder', tone: 'reminder', fallbackChannel: 'letter' },
        { offset: 14, channel: 'email', template: 'final', tone: 'final', fallbackChannel: 'letter' },
        // A handover needs a formal notice delivered and its deadline passed (escalation.ts).
        { offset: 21, channel: 'registered_letter', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
        { offset: 35, channel: 'manual_task', template: 'handover', tone: 'handover' },
      ],
    },
  },
  // Consumers (docs/law.md §4): no 40 € indemnity and no collection fees in the templates, interest
  // only from the formal notice, and fewer, spaced contacts (C. conso L121-7: repeated unwanted
  // solicitations are an aggressive practice): 7 days between reminders, weekday hours 10:00-19:00.
  consumer: {
    name: { fr: 'Particuliers', en: 'Consumers' },
    definition: {
      options: { ...DEFAULT_OPTIONS, window: { start: '10:00', end: '19:00' }, minGapDays: 7 },
      steps: [
        { offset: 0, channel: 'email', template: 'due', tone: 'reminder', conditions: { customerKind: 'consumer' } },
        { offset: 10, channel: 'email', template: 'reminder', tone: 'reminder', fallbackChannel: 'letter' },
        { offset: 21, channel: 'letter', template: 'firm', tone: 'firm' },
        { offset: 35, channel: 'registered_letter', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
        { offset: 50, channel: 'manual_task', template: 'handover', tone: 'handover' },
      ],
    },
  },
};

/**
 * Validates a definition a user edited; errors name the step and field. Sending options left out
 * follow the organisation's.
 */
export function validateScenario<D extends StoredScenarioDefinition>(def: D): D {
  if (typeof def !== 'object' || def === null || Array.isArray(def)) throw validation(E('definition'), { field: 'definition' });
  const o = def.options;
  if (!o) throw validation(E('options'), { field: 'options' });
  checkSending(o, 'options.');
  if (!Number.isInteger(o.minGapDays) || o.minGapDays < 0 || o.minGapDays > 60) throw validation(E('min_gap'), { field: 'options.minGapDays' });
  if (o.grouping !== 'per_customer' && o.grouping !== 'per_invoice') throw validation(E('grouping'), { field: 'options.grouping' });
  const esc = o.escalation ?? {};
  for (const k of ['formalNoticeNeedsReminder', 'handoverNeedsFormalNotice'] as const) {
    if (esc[k] !== undefined && typeof esc[k] !== 'boolean') throw validation(E('escalation_flag', { field: k }), { field: `options.escalation.${k}` });
  }
  const days = esc.formalNoticeDeadlineDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 60)) throw validation(E('deadline_days'), { field: 'options.escalation.formalNoticeDeadlineDays' });
  const postal = esc.postalDelayWorkingDays;
  if (postal !== undefined && (!Number.isInteger(postal) || postal < 0 || postal > 10)) throw validation(E('postal_delay'), { field: 'options.escalation.postalDelayWorkingDays' });
  if (!Array.isArray(def.steps) || def.steps.length === 0) throw validation(E('steps'), { field: 'steps' });
  const seen = new Set<string>();
  def.steps.forEach((s, i) => {
    const f = (name: string) => ({ field: `steps[${i}].${name}` });
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw validation(E('step'), { field: `steps[${i}]` });
    if (!Number.isInteger(s.offset) || s.offset < -60 || s.offset > 730) throw validation(E('offset'), f('offset'));
    if (!CHANNELS.includes(s.channel)) throw validation(E('channel', { channel: String(s.channel) }), f('channel'));
    if (!TONES.includes(s.tone)) throw validation(E('tone', { tone: String(s.tone) }), f('tone'));
    if (typeof s.template !== 'string' || !s.template.trim()) throw validation(E('template'), f('template'));
    if (s.requiresApproval !== undefined && typeof s.requiresApproval !== 'boolean') throw validation(E('approval'), f('requiresApproval'));
    if (s.fallbackChannel && !CHANNELS.includes(s.fallbackChannel)) throw validation(E('fallback', { channel: String(s.fallbackChannel) }), f('fallbackChannel'));
    const key = stepKey(s);
    if (seen.has(key)) throw validation(E('duplicate_step', { offset: s.offset, channel: channelText(s.channel) }), f('offset'));
    seen.add(key);
    const c = s.conditions;
    if (c !== undefined && (typeof c !== 'object' || c === null || Array.isArray(c))) throw validation(E('step'), f('conditions'));
    if (c?.customerKind !== undefined && c.customerKind !== 'business' && c.customerKind !== 'consumer') throw validation(E('customer_kind'), f('conditions.customerKind'));
    if (c?.tags !== undefined && (!Array.isArray(c.tags) || c.tags.some((x) => typeof x !== 'string'))) throw validation(E('tags'), f('conditions.tags'));
    for (const [cur, v] of Object.entries(c?.minOverdueMinor ?? {})) {
      if (!/^[A-Z]{3}$/.test(cur) || !/^\d+$/.test(v)) throw validation(E('min_overdue'), f('conditions.minOverdueMinor'));
    }
  });
  const steps = [...def.steps].sort((a, b) => a.offset - b.offset || CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel));
  return { options: o, steps } as D;
}

/** Formal notices need a human by default, whatever the editor said. */
export function requiresApproval(s: Step): boolean {
  return s.requiresApproval ?? s.tone === 'formal_notice';
}

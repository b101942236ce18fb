/**
 * The delivery channels, as data (pure): what each one renders, whom it needs to reach the customer,
 * whether it is a message to the debtor or a task for the team, and its default rate. Every list of
 * channels in the code (scenario steps, the planner's reachability and minimum gap, rate limits,
 * the database's accepted channels) comes from here; the channel's runtime part (rendering, transport,
 * settings) is its entry in src/delivery/channels/registry.ts. docs/channels.md says how to add one.
 */
import type { Text } from '../i18n/index.ts';

/** How a channel reaches the customer: the contact detail it needs. */
export type Reach = 'email' | 'phone' | 'postal' | 'none';

export interface ChannelSpec {
  /** The document format it renders (src/documents: email, sms, letter, call script), none for a manual task. */
  document: 'email' | 'sms' | 'letter' | 'call' | null;
  reach: Reach;
  /** A message the debtor receives (counts for the scenario's minimum gap), not a task for the team. */
  message: boolean;
  /** Messages per minute and organisation when the settings say nothing. */
  defaultRatePerMinute: number;
}

export const CHANNEL_SPECS = {
  email: { document: 'email', reach: 'email', message: true, defaultRatePerMinute: 600 },
  sms: { document: 'sms', reach: 'phone', message: true, defaultRatePerMinute: 60 },
  letter: { document: 'letter', reach: 'postal', message: true, defaultRatePerMinute: 600 },
  registered_letter: { document: 'letter', reach: 'postal', message: true, defaultRatePerMinute: 120 },
  call_task: { document: 'call', reach: 'phone', message: false, defaultRatePerMinute: 1000 },
  manual_task: { document: null, reach: 'none', message: false, defaultRatePerMinute: 1000 },
} as const satisfies Record<string, ChannelSpec>;

export type ChannelKey = keyof typeof CHANNEL_SPECS;

/** Every channel, in the order steps of the same day are listed. */
export const CHANNEL_KEYS = Object.keys(CHANNEL_SPECS) as ChannelKey[];

/** The channels that send the debtor a message. */
export const MESSAGE_CHANNEL_KEYS = CHANNEL_KEYS.filter((k) => CHANNEL_SPECS[k].message);

export function isChannelKey(s: string): s is ChannelKey {
  return Object.hasOwn(CHANNEL_SPECS, s);
}

export function channelSpec(key: string): ChannelSpec | null {
  return isChannelKey(key) ? CHANNEL_SPECS[key] : null;
}

/** Whether a customer with these contact details can be reached on a channel. */
export function reachable(key: ChannelKey, c: { hasEmail: boolean; hasPhone: boolean; hasPostalAddress: boolean }): boolean {
  switch (CHANNEL_SPECS[key].reach) {
    case 'email':
      return c.hasEmail;
    case 'phone':
      return c.hasPhone;
    case 'postal':
      return c.hasPostalAddress;
    default:
      return true;
  }
}

/**
 * The dedupe key of the action a failed one falls back to: the same group (customer or invoice)
 * and day, on the fallback channel. It is the key the planner gives that channel's own action for
 * the same day (`<day>:c<customer>:<channel>`), so the database's unique key on it makes one
 * document per customer, day and channel, fallbacks included: a fallback letter collides with the
 * step's own letter instead of adding a second one.
 */
export function fallbackDedupeKey(dedupeKey: string, channel: string, fallback: ChannelKey): string {
  const base = dedupeKey.split('|')[0]!;
  const suffix = `:${channel}`;
  return base.endsWith(suffix) ? `${base.slice(0, -suffix.length)}:${fallback}` : `${base}|fallback:${fallback}`;
}

/** Each channel in words (French and English), for the texts that name one: errors, documents, reports. */
export const CHANNEL_WORDS = {
  email: { fr: 'e-mail', en: 'email' },
  sms: { fr: 'SMS', en: 'text message' },
  letter: { fr: 'courrier', en: 'letter' },
  registered_letter: { fr: 'lettre recommandée', en: 'registered letter' },
  call_task: { fr: 'appel à passer', en: 'call to make' },
  manual_task: { fr: 'tâche de l’équipe', en: 'task for the team' },
} as const satisfies Record<ChannelKey, { fr: string; en: string }>;

/** A channel as a text to put in a message ({channel}); a code that is not a channel stays as it is. */
export function channelText(code: string): Text | string {
  return isChannelKey(code) ? { key: `channel.${code}`, ...CHANNEL_WORDS[code], vars: {} } : code;
}

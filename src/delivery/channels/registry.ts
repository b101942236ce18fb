/**
 * The delivery channels, one entry each: email, SMS, letter, registered letter, call, manual step.
 * The worker, the renderer and the settings find everything channel-specific here (rendering,
 * providers and their settings, what the proof store keeps, rows kept beside it); the pure part
 * (what each renders, whom it needs, rates) is src/domain/channels.ts. Adding a channel or a
 * provider: docs/channels.md.
 */
import { CHANNEL_KEYS, type ChannelKey } from '../../domain/channels.ts';
import { emailChannel } from './email.ts';
import { letterChannel } from './letters.ts';
import { registeredChannel } from './registered.ts';
import { smsChannel } from './sms.ts';
import { callChannel, manualChannel } from './tasks.ts';
import type { Channel, DeliverySettings, ProviderChoice, ProviderDef, ProviderField } from './types.ts';

export const CHANNEL_REGISTRY: Readonly<Record<ChannelKey, Channel<never, never>>> = {
  email: emailChannel as Channel<never, never>,
  sms: smsChannel as Channel<never, never>,
  letter: letterChannel as Channel<never, never>,
  registered_letter: registeredChannel as Channel<never, never>,
  call_task: callChannel as Channel<never, never>,
  manual_task: manualChannel as Channel<never, never>,
};

// Every channel of the catalogue has its entry (checked once, when the module loads).
for (const k of CHANNEL_KEYS) if (!CHANNEL_REGISTRY[k]) throw new Error(`channel ${k} has no entry in the channel registry`);

export function channelOf(key: string): Channel<never, never> | null {
  return Object.hasOwn(CHANNEL_REGISTRY, key) ? CHANNEL_REGISTRY[key as ChannelKey] : null;
}

/** The providers a channel can use (the local default first), none for a task. */
export function providersOf(channel: string): readonly ProviderDef<unknown>[] {
  return (channelOf(channel)?.delivery?.providers ?? []) as readonly ProviderDef<unknown>[];
}

/** The provider the settings choose for a channel (its local default when they choose none). */
export function chosenProvider(channel: ChannelKey, settings: DeliverySettings): { def: ProviderDef<unknown>; choice: ProviderChoice } | null {
  const ch = CHANNEL_REGISTRY[channel];
  const providers = providersOf(channel);
  if (!ch.delivery || providers.length === 0) return null;
  const choice = ch.delivery.choose?.(settings) ?? settings.providers[channel] ?? { provider: providers[0]!.key, options: {}, secrets: {} };
  const def = providers.find((p) => p.key === choice.provider);
  return def ? { def, choice } : null;
}

export interface CatalogueEntry {
  key: string;
  label: { fr: string; en: string };
  local: boolean;
  fields: readonly ProviderField[];
}

/** Every channel that has providers to choose from, with each provider's settings (for forms and docs). */
export function providerCatalogue(): Record<string, CatalogueEntry[]> {
  const out: Record<string, CatalogueEntry[]> = {};
  for (const k of CHANNEL_KEYS) {
    const ch = CHANNEL_REGISTRY[k];
    // Email is set by its SMTP settings, not by choosing a provider.
    if (!ch.delivery || ch.delivery.choose) continue;
    out[k] = ch.delivery.providers.map((p) => ({ key: p.key, label: p.label, local: p.local, fields: p.fields }));
  }
  return out;
}

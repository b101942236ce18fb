/**
 * The settings screen's answers (src/http/routes/app/settings.ts), as web/src/screens/Settings.tsx
 * reads them.
 */
import type { SendingField, SendingOptions } from '../../../../domain/engine/sending.ts';
import type { OrganisationFields } from '../../../../domain/organisation.ts';

export type { SendingField, SendingOptions };

export interface OrganisationView extends OrganisationFields {
  id: string;
  live: boolean;
}

/** The letterhead's texts (documents/repo.ts Branding), and whether a logo is stored (it is fetched apart). */
export interface BrandingView {
  colour: string;
  signatoryName: string | null;
  signatoryTitle: string | null;
  footer: string | null;
  email: string | null;
  phone: string | null;
  website: string | null;
  place: string | null;
  paymentLink?: string | null;
  hasLogo: boolean;
}

/** A provider a channel may use, with the settings it declares (delivery/channels/types.ts ProviderDef). */
export interface ProviderEntry {
  key: string;
  label: { fr: string; en: string };
  local: boolean;
  fields: readonly { key: string; label: { fr: string; en: string }; kind: string; secret?: boolean; required?: boolean; default?: string }[];
}

/** A channel's provider as configured: its options and which secrets are set (never the secrets). */
export interface ProviderNow {
  provider: string;
  local: boolean;
  options: Record<string, string>;
  secretsSet: Record<string, boolean>;
}

/** delivery/settings.ts describeSettings: the SMTP fields and shorthands, the providers and their catalogue. */
export type DeliveryView = Record<string, unknown> & {
  catalogue: Record<string, ProviderEntry[]>;
  providers: Record<string, ProviderNow>;
};

/** A scenario that sets some sending options itself (null: it follows the organisation's). */
export interface OwnSending {
  key: string;
  name: string;
  window: { start: string; end: string } | null;
  holidayCalendar: string | null;
  workingDaysOnly: boolean | null;
}

export interface SettingsResponse {
  organisation: OrganisationView;
  branding: BrandingView;
  delivery: DeliveryView;
  staleBankDays: number;
  acknowledgeAgreements: boolean;
  /** The organisation's sending options: the scenarios follow them unless they set their own. */
  sending: SendingOptions;
  ownSending: OwnSending[];
  holidayCalendars: { key: string; name: string }[];
  users: { id: string; email: string; name: string | null; language: string; role: string; disabled: boolean }[];
  invitations: { id: string; email: string; role: string; expiresAt: string }[];
  apiKeys: { id: string; name: string; prefix: string; scope: string; created_at: string; last_used_at: string | null; revoked_at: string | null }[];
  webhooks: { id: string; url: string; events: string[]; description: string | null; active: boolean; createdAt: string }[];
  webhookEvents: readonly string[];
  rates: { table: string; from: string; ratePercent: string; note: string | null }[];
  contractRate: { ratePercent: string; note: string | null; updatedAt: string } | null;
  rateTables: readonly string[];
}

/**
 * The setup wizard's answers that are not another screen's (src/http/routes/app/settings.ts, the
 * going-live preview), as web/src/screens/Setup.tsx reads them. Its scenario step reads the
 * scenario list (./scenarios.ts).
 */
import type { CalendarDate } from '../../../../domain/dates.ts';

/** One step of the preview: what it would send over the period (engine/golive.ts GoLiveLine). */
export interface GoLiveStep {
  stepOffset: number;
  template: string;
  channel: string;
  tone: string;
  actions: number;
  customers: number;
  invoices: number;
  amountMinor: Record<string, string>;
}

/** GET /api/app/golive: what would go out over the next days once live (engine/golive.ts GoLivePreview). */
export interface GoLiveResponse {
  from: CalendarDate;
  to: CalendarDate;
  days: number;
  live: boolean;
  actions: number;
  awaitingApproval: number;
  customers: number;
  invoices: number;
  amountMinor: Record<string, string>;
  byStep: GoLiveStep[];
  byChannel: Record<string, number>;
  byTone: Record<string, number>;
  firstDay: { actions: number; customers: number };
  escalationsAsFirstContact: number;
  firstContacts: number;
}

/** POST /api/app/golive. */
export interface GoLiveSwitch {
  live: boolean;
  released: number;
  replanned: number;
}

/** GET /api/setup (src/http/setup.ts): whether the first-run wizard is open. */
export interface SetupStatus {
  open: boolean;
}

/** POST /api/setup: the organisation and its first admin (a password only when one was generated). */
export interface SetupCreated {
  organisation: { id: string; name: string; siren: string | null; live: boolean };
  admin: { email: string; password: string | null | undefined };
  signedIn: boolean;
}


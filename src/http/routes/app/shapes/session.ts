/** Who is signed in (GET /api/app/me), as src/http/routes/app/session.ts answers and web/src/session.ts reads it. */
import type { CalendarDate } from '../../../../domain/dates.ts';

export type Role = 'admin' | 'collector' | 'viewer';

export interface MeResponse {
  /** The id is null when the caller is an API key (read as the role its scope allows). */
  user: { id: string | null; email: string; name: string | null; language: 'fr' | 'en'; role: Role };
  organisation: { id: string; legalName: string; currency: string; timeZone: string };
  today: CalendarDate;
}

/**
 * Company registers: where a new customer's legal status is checked (closed, insolvent). The
 * contract is one lookup by SIREN; the instance operator chooses the register
 * (RELANCE_COMPANY_REGISTER), none by default: nothing leaves the machine unless asked.
 * docs/company-register.md describes the contract and the adapter shipped.
 */
import type { CalendarDate } from '../../domain/dates.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('company-register', {
  none: { fr: 'aucun registre des entreprises n’est configuré (RELANCE_COMPANY_REGISTER)', en: 'no company register is configured (RELANCE_COMPANY_REGISTER)' },
  unknown: { fr: 'registre inconnu « {name} » (connu : recherche-entreprises)', en: 'unknown register "{name}" (known: recherche-entreprises)' },
  failed: { fr: 'le registre des entreprises n’a pas répondu correctement (HTTP {status})', en: 'the company register did not answer properly (HTTP {status})' },
});

export interface RegisterRecord {
  siren: string;
  legalName: string;
  status: 'active' | 'closed';
  closedOn: CalendarDate | null;
  /** Under collective proceedings; null when this register does not say. */
  insolvent: boolean | null;
  source: string;
}

export interface CompanyRegister {
  name: string;
  /** The record of a SIREN, or null when the register does not know it. */
  lookup(siren: string): Promise<RegisterRecord | null>;
}

/**
 * The French State's "API Recherche d'entreprises" (GET {base}/search?q=SIREN): open, no key. It
 * gives the administrative state of the legal unit (etat_administratif A = active, C = ceased) and
 * its closing date; it does not publish collective proceedings (BODACC does): `insolvent` is null.
 */
export function rechercheEntreprises(baseUrl = 'https://recherche-entreprises.api.gouv.fr', fetchImpl: typeof fetch = fetch): CompanyRegister {
  return {
    name: 'recherche-entreprises',
    async lookup(siren) {
      const res = await fetchImpl(`${baseUrl.replace(/\/$/, '')}/search?q=${encodeURIComponent(siren)}&per_page=5`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new RelanceError(ERROR_CODES.INTERNAL, E('failed', { status: res.status }));
      const body = (await res.json()) as { results?: { siren?: string; nom_complet?: string; nom_raison_sociale?: string; etat_administratif?: string; date_fermeture?: string | null }[] };
      const r = (body.results ?? []).find((x) => x.siren === siren);
      if (!r) return null;
      return {
        siren,
        legalName: String(r.nom_raison_sociale ?? r.nom_complet ?? ''),
        status: r.etat_administratif === 'C' ? 'closed' : 'active',
        closedOn: r.etat_administratif === 'C' && r.date_fermeture ? (r.date_fermeture.slice(0, 10) as CalendarDate) : null,
        insolvent: null,
        source: 'recherche-entreprises',
      };
    },
  };
}

/** The register the operator configured: RELANCE_COMPANY_REGISTER=recherche-entreprises[,base URL]; none by default. */
export function configuredRegister(env: Record<string, string | undefined> = process.env): CompanyRegister {
  const v = env.RELANCE_COMPANY_REGISTER?.trim();
  if (!v) throw new RelanceError(ERROR_CODES.CONFIG, E('none'), { where: { field: 'RELANCE_COMPANY_REGISTER' } });
  const [name, base] = v.split(',').map((x) => x.trim());
  if (name === 'recherche-entreprises') return rechercheEntreprises(base || undefined);
  throw new RelanceError(ERROR_CODES.CONFIG, E('unknown', { name: name ?? '' }), { where: { field: 'RELANCE_COMPANY_REGISTER' } });
}

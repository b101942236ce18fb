/** What every CLI command gets: configuration, and a way to open the database once. */
import { loadConfig, type Config } from '../config.ts';
import type { Db } from '../db/driver.ts';
import { openDatabase } from '../db/open.ts';
import { listOrganisations } from '../ledger/repo.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('cli', {
  org_not_found: { fr: "organisation « {org} » introuvable", en: "organisation \"{org}\" not found" },
  no_org: { fr: "aucune organisation pour l’instant : lancez `relance seed --demo` ou créez-en une", en: "no organisation yet: run `relance seed --demo` or create one" },
});

export interface CliContext {
  config: Config;
  openDb(): Promise<Db>;
  /** The organisation a command acts on: --org, else RELANCE_ORG, else the only/first one. */
  resolveOrg(db: Db, explicit?: string): Promise<string>;
  out(line: string): void;
}

export function createCliContext(): CliContext {
  const config = loadConfig();
  return {
    config,
    openDb: () => openDatabase(config),
    async resolveOrg(db, explicit) {
      const wanted = explicit ?? process.env.RELANCE_ORG;
      const orgs = await listOrganisations(db);
      if (wanted) {
        const o = orgs.find((x) => x.id === wanted || x.siren === wanted || x.legalName === wanted);
        if (!o) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('org_not_found', { org: wanted }), { where: { field: '--org' } });
        return o.id;
      }
      if (orgs.length === 0) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('no_org'));
      return orgs[0]!.id;
    },
    out: (line) => process.stdout.write(`${line}\n`),
  };
}

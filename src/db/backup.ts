/**
 * Backup and restore of the embedded database (`relance backup --out FILE`, `relance restore FILE`).
 * A backup is PGlite's data folder as a gzipped tarball, taken after a checkpoint while no
 * transaction is open, so it is consistent even while the server keeps working. When `relance
 * serve` holds the data folder, `relance backup` asks it over HTTP (`GET /api/operator/backup` on
 * 127.0.0.1, with the operator token the server wrote into the data folder, readable by its owner
 * only); otherwise it opens the folder itself. A restore needs the folder to itself: the server
 * must be stopped. It loads the tarball into a new folder, applies this version's migrations, and
 * only then swaps it in; with --replace, the database it replaces is kept aside, renamed.
 *
 * The tarball holds tenants' secrets sealed with the instance key, not the key: keep `secret.key`
 * (or RELANCE_SECRET_KEY) safe with the backups, apart from them.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { type Db, loadPgliteDir, openPglite } from './driver.ts';
import { LOCK_FILE, type LockInfo, lockDataDir } from './lock.ts';
import { migrate } from './migrate.ts';

const E = defineErrors('db-backup', {
  postgres: {
    fr: "relance backup et relance restore servent la base embarquée ; sur PostgreSQL, utilisez pg_dump et pg_restore",
    en: "relance backup and relance restore are for the embedded database; on PostgreSQL use pg_dump and pg_restore",
  },
  not_a_backup: { fr: "{file} n’est pas une sauvegarde de Relance (une archive .tar.gz faite par relance backup)", en: "{file} is not a Relance backup (a .tar.gz archive made by relance backup)" },
  exists: {
    fr: "le dossier de données {dir} contient déjà une base : ajoutez --replace pour la remplacer (elle est gardée à côté, renommée)",
    en: "the data folder {dir} already holds a database: add --replace to replace it (it is kept aside, renamed)",
  },
  server_failed: { fr: "le serveur en cours ({url}) n’a pas fait la sauvegarde : {reason}", en: "the running server ({url}) did not make the backup: {reason}" },
});

export const OPERATOR_TOKEN_FILE = 'operator.token';
export const PGLITE_DIR = 'pglite';

const isGzip = (b: Uint8Array) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Writes the database's backup to `file` (through a temporary file: never half a backup under that name). */
export async function backupToFile(db: Db, file: string): Promise<{ bytes: number }> {
  if (!db.dumpDataDir) throw new RelanceError(ERROR_CODES.CONFIG, E('postgres'), { where: { field: 'DATABASE_URL' } });
  const blob = await db.dumpDataDir();
  const bytes = Buffer.from(await blob.arrayBuffer());
  writeFileSync(`${file}.partial`, bytes, { mode: 0o600 });
  renameSync(`${file}.partial`, file);
  return { bytes: bytes.length };
}

/** Restores `file` into the data folder (which must not be in use), replacing a database only when asked. */
export async function restoreFromFile(dataDir: string, file: string, opts: { replace?: boolean; now?: Date } = {}): Promise<{ keptAside: string | null; migrated: string[] }> {
  const bytes = readFileSync(file);
  if (!isGzip(bytes)) throw validation(E('not_a_backup', { file }), { file });
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  try {
    const target = join(dataDir, PGLITE_DIR);
    const holdsOne = existsSync(join(target, 'PG_VERSION'));
    if (holdsOne && !opts.replace) throw new RelanceError(ERROR_CODES.CONFLICT, E('exists', { dir: dataDir }), { where: { field: '--replace' } });
    const staging = join(dataDir, `${PGLITE_DIR}.restoring`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      await loadPgliteDir(staging, new Blob([bytes]));
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      throw validation(E('not_a_backup', { file }), { file }, { reason: (e as Error).message });
    }
    // A backup of an earlier version gets this version's schema before it is swapped in.
    const db = await openPglite(staging);
    let migrated: string[];
    try {
      migrated = await migrate(db);
    } finally {
      await db.close();
    }
    let keptAside: string | null = null;
    if (existsSync(target)) {
      keptAside = join(dataDir, `${PGLITE_DIR}.before-restore-${(opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`);
      renameSync(target, keptAside);
    }
    renameSync(staging, target);
    return { keptAside, migrated };
  } finally {
    lock.release();
  }
}

// ------------------------------------------------------------------ through the running server

/** The server's operator token: random at each start, in the data folder, readable by its owner only. */
export function createOperatorToken(dataDir: string): string {
  const token = randomBytes(32).toString('base64url');
  const file = join(dataDir, OPERATOR_TOKEN_FILE);
  rmSync(file, { force: true });
  writeFileSync(file, token, { mode: 0o600 });
  return token;
}

export function removeOperatorToken(dataDir: string): void {
  rmSync(join(dataDir, OPERATOR_TOKEN_FILE), { force: true });
}

export function operatorTokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Records in this process's lock file the URL where the server answers the operator. */
export function publishServerUrl(dataDir: string, url: string): void {
  const file = join(dataDir, LOCK_FILE);
  const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo & { url?: string };
  if (info.pid !== process.pid) return;
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...info, url }));
  renameSync(`${file}.tmp`, file);
}

/** Where the server holding the data folder answers the operator, if one does. */
export function runningServer(dataDir: string): { url: string; token: string } | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo & { url?: string };
    if (!info.url) return null;
    return { url: info.url, token: readFileSync(join(dataDir, OPERATOR_TOKEN_FILE), 'utf8').trim() };
  } catch {
    return null;
  }
}

/** Asks the running server for a backup and writes it to `file`. */
export async function backupThroughServer(server: { url: string; token: string }, file: string): Promise<{ bytes: number }> {
  let res: Response;
  try {
    res = await fetch(`${server.url}/api/operator/backup`, { headers: { authorization: `Bearer ${server.token}` } });
  } catch (e) {
    throw new RelanceError(ERROR_CODES.IN_USE, E('server_failed', { url: server.url, reason: (e as Error).message }));
  }
  if (!res.ok || !res.body) throw new RelanceError(ERROR_CODES.IN_USE, E('server_failed', { url: server.url, reason: `HTTP ${res.status} ${await res.text()}` }));
  await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream), createWriteStream(`${file}.partial`, { mode: 0o600 }));
  renameSync(`${file}.partial`, file);
  return { bytes: statSync(file).size };
}

export function discardPartial(file: string): void {
  try {
    unlinkSync(`${file}.partial`);
  } catch {
    // nothing was written
  }
}

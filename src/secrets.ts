/**
 * Secrets a tenant enters (SMTP password, SMS and registered-mail tokens, webhook signing secrets)
 * are stored encrypted at rest: AES-256-GCM under the instance key, with a fresh 96-bit nonce per
 * value and the place the value belongs to (e.g. "<organisation>:smtp_password") as associated
 * data, so a sealed value copied to another organisation's row or another field does not open.
 *
 * The instance key comes from RELANCE_SECRET_KEY (32 bytes, base64 or hex). On the embedded
 * database, without the variable, it is generated once into the data folder (`secret.key`, mode
 * 0600) and read from there at every start. On PostgreSQL without the variable there is no key:
 * storing a secret is refused with an error saying how to set one (several servers share the
 * database, so a key generated on one machine would not open on another).
 *
 * The key is set once per process by the edge that read the configuration (`setInstanceKey`,
 * called by `openDatabase`); code that stores or reads a secret calls `encryptSecret` /
 * `decryptSecret`. A secret is never returned by an API (callers show "set / not set") and never
 * logged: errors from here name the field, never the value.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, RelanceError } from './errors.ts';
import { defineErrors } from './i18n/index.ts';

const E = defineErrors('secrets', {
  no_key: {
    fr: "aucune clé d’instance pour chiffrer {what} : définissez RELANCE_SECRET_KEY (32 octets aléatoires, par exemple `openssl rand -base64 32`) dans l’environnement de chaque processus Relance qui utilise cette base, puis recommencez ; gardez cette clé, sans elle les secrets enregistrés ne se relisent pas",
    en: "no instance key to encrypt {what}: set RELANCE_SECRET_KEY (32 random bytes, e.g. `openssl rand -base64 32`) in the environment of every Relance process using this database, then try again; keep that key, the stored secrets cannot be read without it",
  },
  no_key_read: {
    fr: "{what} est enregistré chiffré mais RELANCE_SECRET_KEY n’est pas définie : donnez à ce processus la clé avec laquelle il a été enregistré",
    en: "{what} is stored encrypted but RELANCE_SECRET_KEY is not set: give this process the key it was stored with",
  },
  wrong_key: {
    fr: "{what} ne se déchiffre pas avec la clé d’instance : RELANCE_SECRET_KEY (ou le fichier secret.key du dossier de données) n’est pas celle avec laquelle il a été enregistré",
    en: "{what} does not decrypt with the instance key: RELANCE_SECRET_KEY (or the data folder's secret.key) is not the key it was stored with",
  },
  bad_key: {
    fr: "RELANCE_SECRET_KEY doit faire 32 octets, en base64 (44 caractères) ou en hexadécimal (64 caractères) ; par exemple `openssl rand -base64 32`",
    en: "RELANCE_SECRET_KEY must be 32 bytes, in base64 (44 characters) or hexadecimal (64 characters); e.g. `openssl rand -base64 32`",
  },
  bad_key_file: {
    fr: "le fichier de clé {file} ne contient pas une clé de 32 octets : restaurez-le depuis une sauvegarde, ou donnez la clé par RELANCE_SECRET_KEY",
    en: "the key file {file} does not hold a 32-byte key: restore it from a backup, or give the key through RELANCE_SECRET_KEY",
  },
});

/** What every sealed value starts with; anything else in a secret column is a legacy clear value. */
export const SEALED_PREFIX = 'enc:v1:';
export const KEY_FILE = 'secret.key';

let instanceKey: Buffer | null = null;

/** Sets the key of this process (null: none, storing a secret is refused). */
export function setInstanceKey(key: Buffer | null): void {
  if (key && key.length !== 32) throw new RelanceError(ERROR_CODES.CONFIG, E('bad_key'), { where: { field: 'RELANCE_SECRET_KEY' } });
  instanceKey = key;
}

export function hasInstanceKey(): boolean {
  return instanceKey !== null;
}

/** 32 bytes from base64 / base64url (43 or 44 characters) or hex (64 characters). */
export function parseSecretKey(text: string, field = 'RELANCE_SECRET_KEY'): Buffer {
  const s = text.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) key = Buffer.from(s.replace(/=$/, ''), s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
  if (key?.length !== 32) throw new RelanceError(ERROR_CODES.CONFIG, E('bad_key'), { where: { field } });
  return key;
}

/**
 * The instance key for a configuration: RELANCE_SECRET_KEY when set; else, on the embedded
 * database, the data folder's key file (created with mode 0600 the first time); else null.
 */
export function loadInstanceKey(opts: { secretKey: string | undefined; embedded: boolean; dataDir: string }): { key: Buffer | null; source: 'env' | 'file' | 'generated' | null } {
  if (opts.secretKey) return { key: parseSecretKey(opts.secretKey), source: 'env' };
  if (!opts.embedded) return { key: null, source: null };
  mkdirSync(opts.dataDir, { recursive: true });
  const file = join(opts.dataDir, KEY_FILE);
  try {
    const text = readFileSync(file, 'utf8');
    // A copy restored without its mode: the key is readable by the owner only, whatever happened.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    try {
      return { key: parseSecretKey(text, KEY_FILE), source: 'file' };
    } catch {
      throw new RelanceError(ERROR_CODES.CONFIG, E('bad_key_file', { file }), { where: { file } });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32);
  try {
    // 'wx': two processes starting at once cannot both write a key; the second reads the first's.
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadInstanceKey(opts);
    throw e;
  }
  return { key, source: 'generated' };
}

export const isSealed = (v: string): boolean => v.startsWith(SEALED_PREFIX);

/**
 * Seals a secret for storage. `context` names where it is stored ("<organisation id>:smtp_password"):
 * the same context must be given to decrypt it. `what` names it in an error (never the value).
 */
export function encryptSecret(plain: string, context = '', what = 'a secret'): string {
  if (!instanceKey) throw new RelanceError(ERROR_CODES.CONFIG, E('no_key', { what }), { where: { field: 'RELANCE_SECRET_KEY' } });
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', instanceKey, iv);
  c.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

/**
 * Opens a value stored by `encryptSecret` with the same context. A value without the prefix is
 * a legacy clear value (stored before encryption; sealed at the next start that has a key) and is
 * returned as it is.
 */
export function decryptSecret(stored: string, context = '', what = 'a secret'): string {
  if (!isSealed(stored)) return stored;
  if (!instanceKey) throw new RelanceError(ERROR_CODES.CONFIG, E('no_key_read', { what }), { where: { field: 'RELANCE_SECRET_KEY' } });
  const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64url');
  try {
    const d = createDecipheriv('aes-256-gcm', instanceKey, raw.subarray(0, 12));
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    throw new RelanceError(ERROR_CODES.CONFIG, E('wrong_key', { what }), { where: { field: 'RELANCE_SECRET_KEY' } });
  }
}

/**
 * An HMAC-SHA256 under the instance key, for values the server signs and later checks (the debtor
 * portal's links, src/portal/links.ts). `label` separates the uses: one signature is never valid
 * for another purpose.
 */
export function instanceMac(label: string, data: string, what = 'a link'): Buffer {
  if (!instanceKey) throw new RelanceError(ERROR_CODES.CONFIG, E('no_key', { what }), { where: { field: 'RELANCE_SECRET_KEY' } });
  return createHmac('sha256', instanceKey).update(`${label}\0${data}`).digest();
}

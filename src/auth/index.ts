/**
 * Who is calling: users (web app) with a role in an organisation, their sessions, and API keys
 * with a scope. Secrets are stored as hashes only: scrypt for passwords, SHA-256 for session
 * tokens and API keys (both are 256-bit random values, so a fast hash is enough).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/driver.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import { passwordProblem } from './password-policy.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('auth', {
  email: { fr: "« {email} » n’est pas une adresse e-mail", en: "\"{email}\" is not an email address" },
  role: { fr: "le rôle doit être l’un de : {roles}", en: "role must be one of {roles}" },
  invitation: { fr: "cette invitation est inconnue, expirée ou déjà utilisée : demandez-en une nouvelle", en: "this invitation is unknown, expired or already used: ask for a new one" },
  wrong_password: { fr: "le mot de passe actuel est incorrect", en: "the current password is wrong" },
  no_user: { fr: "aucun compte pour « {email} »", en: "no account for \"{email}\"" },
  last_admin: { fr: "l’organisation n’aurait plus aucun administrateur actif", en: "the organisation would be left without an active administrator" },
  wrong_login: { fr: "e-mail ou mot de passe incorrect", en: "wrong email or password" },
  no_access: { fr: "ce compte n’a pas accès à cette organisation", en: "this account has no access to that organisation" },
  scope: { fr: "le droit doit être l’un de : {scopes}", en: "scope must be one of {scopes}" },
  key_name: { fr: "une clé d’API doit avoir un nom", en: "an API key needs a name" },
});

export const ROLES = ['admin', 'collector', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a role may do through the API: a viewer reads, a collector writes, an admin administers. */
export const ROLE_SCOPE: Record<Role, Scope> = { admin: 'admin', collector: 'write', viewer: 'read' };
export const scopeAllows = (have: Scope, need: Scope) => SCOPES.indexOf(have) >= SCOPES.indexOf(need);

export interface Principal {
  organisationId: string;
  kind: 'session' | 'api_key';
  scope: Scope;
  userId: string | null;
  apiKeyId: bigint | null;
  role: Role | null;
  email: string | null;
  language: 'fr' | 'en';
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// ------------------------------------------------------------------ users

export interface UserInput {
  email: string;
  role: Role;
  password?: string;
  name?: string | null;
  language?: 'fr' | 'en';
}

/** Refuses a weak password with the reason (src/auth/password-policy.ts), naming the field. */
export function checkPassword(password: string, email: string | null, field = 'password'): void {
  const why = passwordProblem(password, email);
  if (why) throw validation(why, { field });
}

/**
 * The operator's way (CLI on the server, first start): creates a user in the organisation, or adds
 * an existing user to it. Returns the generated password, once, when none was given and the
 * account is new; `created` says whether it is. An organisation admin goes through `inviteUser`,
 * whose answer does not tell whether the address already has an account.
 */
export async function addUser(q: Queryable, orgId: string, u: UserInput): Promise<{ userId: string; email: string; role: Role; password: string | null; created: boolean }> {
  const email = u.email.trim().toLowerCase();
  if (!EMAIL_RE.test(email)) throw validation(E('email', { email: u.email }), { field: 'email' });
  if (!ROLES.includes(u.role)) throw validation(E('role', { roles: ROLES.join(', ') }), { field: 'role' });
  if (u.password !== undefined) checkPassword(u.password, email);
  const generated = u.password === undefined ? generatePassword() : null;
  const hash = await hashPassword(u.password ?? generated!);
  const [row] = await q.query<{ id: string; inserted: boolean }>(
    `INSERT INTO users (email, name, language, password_hash) VALUES ($1, $2, coalesce($3, 'fr'), $4)
     ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id, (xmax = 0) AS inserted`,
    [email, u.name ?? null, u.language ?? null, hash],
  );
  await q.query(
    `INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (organisation_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
    [orgId, row!.id, u.role],
  );
  // An existing user keeps their password: only a new account gets the generated one.
  return { userId: row!.id, email, role: u.role, password: row!.inserted ? generated : null, created: row!.inserted };
}

// ------------------------------------------------------------------ invitations

export const INVITATION_DAYS = 7;

/**
 * An organisation admin adds a person: an invitation to the address, answered the same way whether
 * the address has an account on the instance or not (nothing about another organisation's people
 * leaks). The one-time token is returned once, for the admin to pass on; the person accepts it
 * with their existing password, or chooses one if they are new (`acceptInvitation`).
 */
export async function inviteUser(
  q: Queryable,
  orgId: string,
  u: { email: string; role: Role; name?: string | null; language?: 'fr' | 'en'; invitedBy: string | null; now: Date },
): Promise<{ email: string; role: Role; token: string; expiresAt: Date }> {
  const email = u.email.trim().toLowerCase();
  if (!EMAIL_RE.test(email)) throw validation(E('email', { email: u.email }), { field: 'email' });
  if (!ROLES.includes(u.role)) throw validation(E('role', { roles: ROLES.join(', ') }), { field: 'role' });
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(u.now.getTime() + INVITATION_DAYS * 86_400_000);
  await q.query(
    `INSERT INTO invitations (token_hash, organisation_id, email, role, name, language, invited_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [sha256(token), orgId, email, u.role, u.name?.trim() || null, u.language ?? 'fr', u.invitedBy, u.now, expiresAt],
  );
  return { email, role: u.role, token, expiresAt };
}

interface InvitationRow {
  organisation_id: string;
  legal_name: string;
  email: string;
  role: Role;
  name: string | null;
  language: 'fr' | 'en';
  expires_at: string;
}

async function openInvitation(q: Queryable, token: string, now: Date, lock = false): Promise<InvitationRow> {
  const [r] = await q.query<InvitationRow>(
    `SELECT i.organisation_id, o.legal_name, i.email, i.role, i.name, i.language, i.expires_at
       FROM invitations i JOIN organisations o ON o.id = i.organisation_id
      WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2${lock ? ' FOR UPDATE OF i' : ''}`,
    [sha256(token), now],
  );
  if (!r) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('invitation'), { where: { field: 'token' } });
  return r;
}

/** What the invitation page shows: the same for a new and an existing person. */
export async function invitationInfo(q: Queryable, token: string, now: Date): Promise<{ organisation: string; email: string; role: Role; expiresAt: string }> {
  const r = await openInvitation(q, token, now);
  return { organisation: r.legal_name, email: r.email, role: r.role, expiresAt: r.expires_at };
}

/** The address an invitation is for (to count sign-in attempts against that account). */
export async function invitationEmail(q: Queryable, token: string, now: Date): Promise<string> {
  return (await openInvitation(q, token, now)).email;
}

/**
 * Accepts an invitation, once: a person with an account proves it with their password; a new
 * person's password becomes theirs. The strength rule is checked first for both, so the answer to
 * a weak password does not tell which case it is. Returns a session in the inviting organisation.
 */
export async function acceptInvitation(q: Queryable, token: string, password: string, now: Date): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const inv = await openInvitation(q, token, now, true);
  checkPassword(password, inv.email);
  const [user] = await q.query<{ id: string; password_hash: string; disabled_at: string | null }>('SELECT id, password_hash, disabled_at FROM users WHERE email = $1', [inv.email]);
  let userId: string;
  if (user) {
    if (!(await verifyPassword(password, user.password_hash)) || user.disabled_at) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('wrong_login'));
    userId = user.id;
  } else {
    const [created] = await q.query<{ id: string }>('INSERT INTO users (email, name, language, password_hash) VALUES ($1, $2, $3, $4) RETURNING id', [
      inv.email,
      inv.name,
      inv.language,
      await hashPassword(password),
    ]);
    userId = created!.id;
  }
  await q.query(
    `INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (organisation_id, user_id) DO UPDATE SET role = EXCLUDED.role, disabled_at = NULL`,
    [inv.organisation_id, userId, inv.role],
  );
  await q.query('UPDATE invitations SET accepted_at = $2 WHERE token_hash = $1', [sha256(token), now]);
  return openSession(q, userId, inv.organisation_id, now);
}

// ------------------------------------------------------------------ memberships

/**
 * What an organisation admin may change about a person: their role and whether they may sign in
 * to this organisation. The user row (password, other organisations) is not touched. The
 * organisation keeps at least one active admin.
 */
export async function updateMembership(q: Queryable, orgId: string, userId: string, change: { role?: Role; disabled?: boolean }): Promise<void> {
  const [m] = await q.query('SELECT 1 FROM memberships WHERE organisation_id = $1 AND user_id = $2::uuid FOR UPDATE', [orgId, userId]);
  if (!m) throw notFound('user', userId);
  if (change.role !== undefined) {
    if (!ROLES.includes(change.role)) throw validation(E('role', { roles: ROLES.join(', ') }), { field: 'role' });
    await q.query('UPDATE memberships SET role = $3 WHERE organisation_id = $1 AND user_id = $2::uuid', [orgId, userId, change.role]);
  }
  if (change.disabled !== undefined) {
    await q.query('UPDATE memberships SET disabled_at = CASE WHEN $3 THEN coalesce(disabled_at, now()) ELSE NULL END WHERE organisation_id = $1 AND user_id = $2::uuid', [
      orgId,
      userId,
      change.disabled,
    ]);
    if (change.disabled) await q.query('DELETE FROM sessions WHERE organisation_id = $1 AND user_id = $2::uuid', [orgId, userId]);
  }
  await keepAnAdmin(q, orgId);
}

/** Removes a person from the organisation (their sessions there end; their account stays). */
export async function removeMember(q: Queryable, orgId: string, userId: string): Promise<void> {
  const rows = await q.query('DELETE FROM memberships WHERE organisation_id = $1 AND user_id = $2::uuid RETURNING 1', [orgId, userId]);
  if (!rows.length) throw notFound('user', userId);
  await keepAnAdmin(q, orgId);
}

async function keepAnAdmin(q: Queryable, orgId: string): Promise<void> {
  const [a] = await q.query(
    `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organisation_id = $1 AND m.role = 'admin' AND m.disabled_at IS NULL AND u.disabled_at IS NULL LIMIT 1`,
    [orgId],
  );
  if (!a) throw new RelanceError(ERROR_CODES.CONFLICT, E('last_admin'), { where: { field: 'role' } });
}

// ------------------------------------------------------------------ passwords

/** Every session of the person, in every organisation (sign out everywhere, password changed). */
export async function revokeSessions(q: Queryable, userId: string): Promise<number> {
  return (await q.query('DELETE FROM sessions WHERE user_id = $1 RETURNING 1', [userId])).length;
}

/**
 * The signed-in person changes their password: the current one is checked, the new one must pass
 * the strength rule, and every session ends; the caller gets a new one for the organisation it
 * was in.
 */
export async function changePassword(
  q: Queryable,
  who: { userId: string; organisationId: string },
  current: string,
  next: string,
  now: Date,
): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const [u] = await q.query<{ email: string; password_hash: string }>('SELECT email, password_hash FROM users WHERE id = $1 FOR UPDATE', [who.userId]);
  if (!u || !(await verifyPassword(current, u.password_hash))) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('wrong_password'), { where: { field: 'currentPassword' } });
  checkPassword(next, u.email, 'newPassword');
  await q.query('UPDATE users SET password_hash = $2 WHERE id = $1', [who.userId, await hashPassword(next)]);
  await revokeSessions(q, who.userId);
  return openSession(q, who.userId, who.organisationId, now);
}

/** The operator sets a person's password (`relance users password`); every session of theirs ends. */
export async function setPassword(q: Queryable, email: string, next: string): Promise<{ userId: string; sessionsRevoked: number }> {
  const address = email.trim().toLowerCase();
  const [u] = await q.query<{ id: string }>('SELECT id FROM users WHERE email = $1 FOR UPDATE', [address]);
  if (!u) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('no_user', { email: address }), { where: { field: 'email' } });
  checkPassword(next, address);
  await q.query('UPDATE users SET password_hash = $2 WHERE id = $1', [u.id, await hashPassword(next)]);
  return { userId: u.id, sessionsRevoked: await revokeSessions(q, u.id) };
}

/**
 * When the organisation has no admin, make `email` its first admin and return the generated
 * password (shown once by the caller); null when an admin exists. Each organisation names its own
 * (`relance org create --admin-email`, the setup wizard); nobody is made admin of every one.
 */
export async function ensureAdmin(db: Db, orgId: string, email: string): Promise<{ email: string; password: string | null } | null> {
  return db.tx(async (q) => {
    // Two processes starting at once: the row lock makes the second see the first one's admin.
    await q.query('SELECT id FROM organisations WHERE id = $1 FOR UPDATE', [orgId]);
    const [admin] = await q.query(`SELECT 1 FROM memberships WHERE organisation_id = $1 AND role = 'admin' LIMIT 1`, [orgId]);
    if (admin) return null;
    // An address that already has an account (admin of another organisation) keeps its password: null.
    const r = await addUser(q, orgId, { email, role: 'admin' });
    return { email: r.email, password: r.password };
  });
}

// ------------------------------------------------------------------ sessions

export const SESSION_DAYS = 14;

export async function login(
  q: Queryable,
  email: string,
  password: string,
  opts: { organisationId?: string; now: Date },
): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const [user] = await q.query<{ id: string; password_hash: string; disabled_at: string | null }>(
    'SELECT id, password_hash, disabled_at FROM users WHERE email = $1',
    [email.trim().toLowerCase()],
  );
  // The same work and the same answer whether the address exists or not.
  const ok = user ? await verifyPassword(password, user.password_hash) : await verifyPassword(password, DUMMY_HASH).then(() => false);
  if (!user || !ok || user.disabled_at) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('wrong_login'));
  const [m] = await q.query<{ organisation_id: string }>(
    `SELECT organisation_id FROM memberships WHERE user_id = $1 AND disabled_at IS NULL AND ($2::uuid IS NULL OR organisation_id = $2) ORDER BY created_at LIMIT 1`,
    [user.id, opts.organisationId ?? null],
  );
  if (!m) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('no_access'));
  return openSession(q, user.id, m.organisation_id, opts.now);
}

async function openSession(q: Queryable, userId: string, organisationId: string, now: Date): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_DAYS * 86_400_000);
  await q.query('INSERT INTO sessions (token_hash, organisation_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    sha256(token),
    organisationId,
    userId,
    now,
    expiresAt,
  ]);
  const principal = await sessionPrincipal(q, token, now);
  return { token, expiresAt, principal: principal! };
}

const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export async function sessionPrincipal(q: Queryable, token: string, now: Date): Promise<Principal | null> {
  const [r] = await q.query<{ organisation_id: string; user_id: string; role: Role; email: string; language: 'fr' | 'en' }>(
    `SELECT s.organisation_id, s.user_id, m.role, u.email, u.language
       FROM sessions s JOIN memberships m ON m.organisation_id = s.organisation_id AND m.user_id = s.user_id
       JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL AND m.disabled_at IS NULL`,
    [sha256(token), now],
  );
  if (!r) return null;
  return { organisationId: r.organisation_id, kind: 'session', scope: ROLE_SCOPE[r.role], userId: r.user_id, apiKeyId: null, role: r.role, email: r.email, language: r.language };
}

export async function logout(q: Queryable, token: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE token_hash = $1', [sha256(token)]);
}

// ------------------------------------------------------------------ API keys

export const API_KEY_PREFIX = 'rlk_';

export async function createApiKey(q: Queryable, orgId: string, k: { name: string; scope: Scope }): Promise<{ id: bigint; key: string; prefix: string; scope: Scope }> {
  if (!SCOPES.includes(k.scope)) throw validation(E('scope', { scopes: SCOPES.join(', ') }), { field: 'scope' });
  if (!k.name?.trim()) throw validation(E('key_name'), { field: 'name' });
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, 12);
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO api_keys (organisation_id, name, prefix, key_hash, scope) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [orgId, k.name.trim(), prefix, sha256(key), k.scope],
  );
  return { id: row!.id, key, prefix, scope: k.scope };
}

export async function apiKeyPrincipal(q: Queryable, key: string, now: Date): Promise<Principal | null> {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const [r] = await q.query<{ organisation_id: string; id: bigint; scope: Scope; last_used_at: string | null }>(
    'SELECT organisation_id, id, scope, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [sha256(key)],
  );
  if (!r) return null;
  // Written at most once a minute per key: a busy integration does not turn reads into writes.
  if (!r.last_used_at || Date.parse(r.last_used_at) < now.getTime() - 60_000) {
    await q.query('UPDATE api_keys SET last_used_at = $3 WHERE organisation_id = $1 AND id = $2', [r.organisation_id, r.id, now]);
  }
  return { organisationId: r.organisation_id, kind: 'api_key', scope: r.scope, userId: null, apiKeyId: r.id, role: null, email: null, language: 'en' };
}

export async function listApiKeys(q: Queryable, orgId: string) {
  return q.query<{ id: bigint; name: string; prefix: string; scope: Scope; created_at: string; last_used_at: string | null; revoked_at: string | null }>(
    'SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_keys WHERE organisation_id = $1 ORDER BY id',
    [orgId],
  );
}

export async function revokeApiKey(q: Queryable, orgId: string, id: bigint, now: Date): Promise<void> {
  const rows = await q.query('UPDATE api_keys SET revoked_at = $3 WHERE organisation_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING 1', [orgId, id, now]);
  if (!rows.length) throw notFound('API key', String(id));
}

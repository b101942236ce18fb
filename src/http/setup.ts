/**
 * First start with no organisation: the setup wizard's server side. `relance serve` makes a
 * one-time setup code and prints it once in its log; only who can read that log can create the
 * first organisation (nobody else on the network can claim the instance). The code is compared in
 * constant time on SHA-256 digests, a wrong one is refused after a growing delay, and the wizard
 * closes for good once an organisation exists.
 *
 * POST /api/setup/check   { code }                         → { ok: true } | 403
 * GET  /api/setup                                          → { open }
 * POST /api/setup/smtp-test { code, smtp, from, to }       → { outcome }   (nothing stored)
 * POST /api/setup         { code, organisation, branding, sender, admin } → signed in as the admin
 *
 * The wizard's later steps (first import, scenario, going live) are the web app's own routes,
 * under the new admin's session.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { addUser, login } from '../auth/index.ts';
import type { Db } from '../db/driver.ts';
import { isPlausibleEmail } from '../domain/delivery.ts';
import { saveDeliverySettings } from '../delivery/settings.ts';
import { sendTestMessage } from '../delivery/smtp-test.ts';
import { getBranding, saveBranding } from '../documents/repo.ts';
import { assignScenario, ensureBuiltinScenarios } from '../engine/scenarios.ts';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { createOrganisation, listOrganisations, type OrganisationInput } from '../ledger/repo.ts';
import { type AppContext, json } from './context.ts';
import { checkSameOrigin, SESSION_COOKIE } from './auth.ts';
import type { SetupCreated, SetupStatus } from './routes/app/shapes/setup.ts';

const E = defineErrors('setup', {
  closed: { fr: "la mise en service est terminée : une organisation existe déjà, connectez-vous", en: "setup is over: an organisation exists already, sign in" },
  wrong_code: { fr: "code de mise en service incorrect (il est affiché dans le journal du serveur au démarrage)", en: "wrong setup code (it is printed in the server log at start)" },
  json: { fr: "le corps de la requête n’est pas du JSON", en: "the request body is not JSON" },
  email: { fr: "« {value} » n’est pas une adresse e-mail", en: "\"{value}\" is not an email address" },
  smtp_host: { fr: "indiquez le serveur SMTP", en: "give the SMTP server" },
  smtp_port: { fr: "le port SMTP est un nombre de 1 à 65535", en: "the SMTP port is a number from 1 to 65535" },
  smtp_security: { fr: "la sécurité SMTP est none, starttls ou tls", en: "SMTP security is none, starttls or tls" },
  scenario: { fr: "scénario inconnu « {value} » (standard-b2b, weekly ou consumer)", en: "unknown scenario \"{value}\" (standard-b2b, weekly or consumer)" },
});

const SCENARIOS = ['standard-b2b', 'weekly', 'consumer'];

/** The one-time setup code of a server started with no organisation. Only its digest is kept. */
export class SetupGate {
  private digest: Buffer | null;
  private failures = 0;

  private constructor(code: string) {
    this.digest = sha256(normalise(code));
  }

  /** A new gate and its code, to print once. 60 random bits in 12 characters (no 0/O, 1/I). */
  static create(): { gate: SetupGate; code: string } {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const bytes = randomBytes(12);
    let raw = '';
    for (const b of bytes) raw += alphabet[b % 32];
    const code = `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}`;
    return { gate: new SetupGate(code), code };
  }

  /** For tests: a gate with a known code. */
  static withCode(code: string): SetupGate {
    return new SetupGate(code);
  }

  get used(): boolean {
    return this.digest === null;
  }

  /** Constant time; wrong codes make the next answer slower (up to 5 s). */
  async check(code: unknown): Promise<boolean> {
    if (!this.digest || typeof code !== 'string') return false;
    const ok = timingSafeEqual(sha256(normalise(code)), this.digest);
    if (!ok) {
      this.failures++;
      await new Promise((r) => setTimeout(r, Math.min(5_000, 50 * 2 ** Math.min(this.failures, 7))));
    }
    return ok;
  }

  close(): void {
    this.digest = null;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const normalise = (s: string) => s.replace(/[\s-]/g, '').toUpperCase();

/** The wizard is open while the gate has a code and no organisation exists. */
async function isOpen(db: Db, gate: SetupGate | undefined): Promise<boolean> {
  if (!gate || gate.used) return false;
  if ((await listOrganisations(db)).length > 0) {
    gate.close();
    return false;
  }
  return true;
}

async function readBody(c: Context): Promise<Record<string, unknown>> {
  try {
    const b = await c.req.json();
    if (b && typeof b === 'object') return b as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw validation(E('json'), { field: 'body' });
}

async function guard(c: Context, ctx: AppContext): Promise<Record<string, unknown>> {
  // The answer signs someone in: like the sign-in, only from the app's own pages.
  checkSameOrigin(c);
  if (!(await isOpen(ctx.db, ctx.setup))) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('closed'));
  const b = await readBody(c);
  if (!(await ctx.setup!.check(b.code))) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('wrong_code'), { where: { field: 'code' } });
  return b;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v).trim() || null);

interface SmtpInput {
  host: string;
  port: number;
  security: 'none' | 'starttls' | 'tls';
  user: string | null;
  password: string | null;
}

function smtpOf(raw: Record<string, unknown>, field: string): SmtpInput | null {
  const host = str(raw.host);
  if (!host) return null;
  const port = Number(raw.port ?? 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw validation(E('smtp_port'), { field: `${field}.port` });
  const security = (str(raw.security) ?? 'starttls') as 'none' | 'starttls' | 'tls';
  if (!['none', 'starttls', 'tls'].includes(security)) throw validation(E('smtp_security'), { field: `${field}.security` });
  return { host, port, security, user: str(raw.user), password: typeof raw.password === 'string' && raw.password !== '' ? raw.password : null };
}

function emailOf(v: unknown, field: string, required: boolean): string | null {
  const s = str(v)?.toLowerCase() ?? null;
  if (s === null && !required) return null;
  if (!s || !isPlausibleEmail(s)) throw validation(E('email', { value: String(v ?? '') }), { field });
  return s;
}

/** Field names of the organisation's checks, as the wizard's form names them. */
const prefixed = async <T>(prefix: string, work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (e) {
    if (e instanceof RelanceError && e.text && e.where?.field && !e.where.field.includes('.')) {
      throw new RelanceError(e.code, e.text, { where: { ...e.where, field: `${prefix}.${e.where.field}` }, details: e.details, cause: e });
    }
    throw e;
  }
};

export function registerSetupRoutes(app: Hono, ctx: AppContext): void {
  app.get('/api/setup', async () => json({ open: await isOpen(ctx.db, ctx.setup) } satisfies SetupStatus));

  app.post('/api/setup/check', async (c) => {
    await guard(c, ctx);
    return json({ ok: true });
  });

  app.post('/api/setup/smtp-test', async (c) => {
    const b = await guard(c, ctx);
    const sender = obj(b.sender);
    const smtp = smtpOf(obj(sender.smtp), 'sender.smtp');
    if (!smtp) throw validation(E('smtp_host'), { field: 'sender.smtp.host' });
    const from = emailOf(sender.fromAddress, 'sender.fromAddress', true)!;
    const to = emailOf(b.to, 'to', true)!;
    const name = str(obj(b.organisation).legalName) ?? 'Relance';
    const outcome = await sendTestMessage({ smtp: { ...smtp, poolSize: 1 }, from, fromName: str(sender.fromName) ?? name, to, organisation: name, now: ctx.now(), field: 'sender.smtp.host' });
    return json({ outcome });
  });

  app.post('/api/setup', async (c) => {
    const b = await guard(c, ctx);
    const organisation = obj(b.organisation);
    const branding = obj(b.branding);
    const sender = obj(b.sender);
    const admin = obj(b.admin);
    const smtp = smtpOf(obj(sender.smtp), 'sender.smtp');
    const fromAddress = emailOf(sender.fromAddress, 'sender.fromAddress', false);
    const replyTo = emailOf(sender.replyTo, 'sender.replyTo', false) ?? fromAddress;
    const adminEmail = emailOf(admin.email, 'admin.email', true)!;
    const password = typeof admin.password === 'string' && admin.password !== '' ? admin.password : undefined;
    const scenario = str(b.scenario) ?? 'standard-b2b';
    if (!SCENARIOS.includes(scenario)) throw validation(E('scenario', { value: scenario }), { field: 'scenario' });
    const language = admin.language === 'en' ? 'en' : 'fr';
    // One transaction: a refusal anywhere leaves nothing written, and the code still works.
    const created = await ctx.db.tx(async (q) => {
      const org = await prefixed('organisation', () => createOrganisation(q, { ...(organisation as unknown as OrganisationInput), live: false }));
      await ensureBuiltinScenarios(q, org.id, org.language);
      if (scenario !== 'standard-b2b') await assignScenario(q, org.id, scenario, { organisationDefault: true });
      await prefixed('sender', () =>
        saveDeliverySettings(q, org.id, {
          fromAddress,
          fromName: str(sender.fromName) ?? org.legalName,
          replyTo,
          ...(smtp ? { smtpHost: smtp.host, smtpPort: smtp.port, smtpSecurity: smtp.security, smtpUser: smtp.user, smtpPassword: smtp.password } : {}),
        }),
      );
      const footer = str(branding.footer);
      if (footer || str(branding.signatoryName) || str(branding.phone)) {
        const cur = await getBranding(q, org.id);
        await saveBranding(q, org.id, {
          colour: cur.colour,
          logoDocumentId: null,
          signatureDocumentId: null,
          footer: footer ?? cur.footer,
          signatoryName: str(branding.signatoryName) ?? cur.signatoryName,
          signatoryTitle: str(branding.signatoryTitle) ?? cur.signatoryTitle,
          email: fromAddress ?? cur.email,
          phone: str(branding.phone) ?? cur.phone,
          website: str(branding.website) ?? cur.website,
          place: org.city ?? cur.place,
        });
      }
      const user = await prefixed('admin', () => addUser(q, org.id, { email: adminEmail, role: 'admin', password, name: str(admin.name), language }));
      return { org, user };
    });
    ctx.setup!.close();
    const signedIn = created.user.password ?? password;
    let cookie = false;
    if (signedIn) {
      const s = await ctx.db.tx((q) => login(q, adminEmail, signedIn, { organisationId: created.org.id, now: ctx.now() }));
      setCookie(c, SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'Lax', secure: c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:', path: '/', expires: s.expiresAt });
      cookie = true;
    }
    return c.newResponse(
      JSON.stringify({
        organisation: { id: created.org.id, name: created.org.legalName, siren: created.org.siren, live: created.org.live },
        admin: { email: created.user.email, password: created.user.password },
        signedIn: cookie,
      } satisfies SetupCreated),
      201,
      { 'content-type': 'application/json; charset=utf-8' },
    );
  });
}

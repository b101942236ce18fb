/** The organisation's people (invitations, roles, removal), its API keys and its webhooks. */
import { z } from 'zod';
import { createApiKey, inviteUser, removeMember, type Role, revokeApiKey, type Scope, updateMembership } from '../../../auth/index.ts';
import { notFound, validation } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { createSubscription, deleteSubscription } from '../../../webhooks/index.ts';
import { IdParams } from '../schemas.ts';
import { appRoute } from './common.ts';

const E = defineErrors('web-users', {
  own_role: { fr: "vous ne pouvez pas modifier votre propre rôle ni vous désactiver", en: "you cannot change your own role or disable yourself" },
});

const UserParams = z.object({ userId: z.uuid().transform((v) => v.toLowerCase()) });

export const userRoutes = [
  /**
   * Adds a person: an invitation, answered the same whether the address has an account on the
   * instance or not (the admin passes the one-time link on; the person signs in or chooses a password).
   */
  appRoute({
    method: 'post',
    path: '/settings/users',
    scope: 'admin',
    body: z.object({ email: z.string(), role: z.string(), name: z.string().nullish(), language: z.string().nullish() }),
    handler: async ({ q, orgId, user, now, body: b }) => {
      const inv = await inviteUser(q, orgId, { email: b.email, role: b.role as Role, name: b.name ?? null, language: b.language === 'en' ? 'en' : 'fr', invitedBy: user.userId, now });
      return { email: inv.email, role: inv.role, invitation: { token: inv.token, path: `/invite#${inv.token}`, expiresAt: inv.expiresAt.toISOString() } };
    },
  }),
  /** Role and "may sign in here": the membership in this organisation only, never the person's account. */
  appRoute({
    method: 'put',
    path: '/settings/users/:userId',
    scope: 'admin',
    params: UserParams,
    body: z.object({ role: z.enum(['admin', 'collector', 'viewer']).optional(), disabled: z.boolean().optional() }),
    handler: async ({ q, orgId, user, params, body: b }) => {
      if (params.userId === user.userId) throw validation(E('own_role'), { field: 'userId' });
      await updateMembership(q, orgId, params.userId, { role: b.role, disabled: b.disabled });
      return { ok: true };
    },
  }),
  /** Removes the person from this organisation; their account and other organisations stay. */
  appRoute({
    method: 'delete',
    path: '/settings/users/:userId',
    scope: 'admin',
    params: UserParams,
    handler: async ({ q, orgId, user, params }) => {
      if (params.userId === user.userId) throw validation(E('own_role'), { field: 'userId' });
      await removeMember(q, orgId, params.userId);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'delete',
    path: '/settings/invitations/:id',
    scope: 'admin',
    params: z.object({ id: z.string() }),
    handler: async ({ q, orgId, params }) => {
      const rows = await q.query('DELETE FROM invitations WHERE organisation_id = $1 AND left(token_hash, 16) = $2 AND accepted_at IS NULL RETURNING 1', [orgId, params.id]);
      if (!rows.length) throw notFound('invitation', params.id);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/settings/api-keys',
    scope: 'admin',
    body: z.object({ name: z.string(), scope: z.string() }),
    handler: async ({ q, orgId, body: b }) => {
      const k = await createApiKey(q, orgId, { name: b.name, scope: b.scope as Scope });
      return { id: String(k.id), key: k.key, prefix: k.prefix, scope: k.scope };
    },
  }),
  appRoute({
    method: 'delete',
    path: '/settings/api-keys/:id',
    scope: 'admin',
    params: IdParams,
    handler: async ({ q, orgId, now, params }) => {
      await revokeApiKey(q, orgId, BigInt(params.id), now);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/settings/webhooks',
    scope: 'admin',
    body: z.object({ url: z.string(), events: z.array(z.string()).optional(), description: z.string().nullish() }),
    handler: async ({ q, orgId, options, body: b }) => {
      const w = await createSubscription(q, orgId, { url: b.url, events: b.events ?? [], description: b.description ?? null }, { policy: options.webhookPolicy });
      return { ...w, id: String(w.id) };
    },
  }),
  appRoute({
    method: 'delete',
    path: '/settings/webhooks/:id',
    scope: 'admin',
    params: IdParams,
    handler: async ({ q, orgId, params }) => {
      await deleteSubscription(q, orgId, BigInt(params.id));
      return { ok: true };
    },
  }),
];

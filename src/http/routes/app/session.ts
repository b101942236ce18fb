/** Who is signed in, and their language. Sign-in and sign-out are the API's (src/http/auth.ts). */
import { z } from 'zod';
import { validation } from '../../../errors.ts';
import { defineErrors, type Lang } from '../../../i18n/index.ts';
import { appRoute } from './common.ts';
import { Lang as LangSchema } from './shapes/common.ts';
import type { MeResponse } from './shapes/session.ts';

const E = defineErrors('web-session', {
  key_language: { fr: "une clé d’API n’a pas d’utilisateur dont on puisse régler la langue", en: "an API key has no user to set a language for" },
});

export const sessionRoutes = [
  appRoute({
    method: 'get',
    path: '/me',
    scope: 'read',
    response: z.custom<MeResponse>(),
    handler: async ({ q, user, org, today }) => {
      const [u] = user.userId ? await q.query<{ name: string | null; language: Lang }>('SELECT name, language FROM users WHERE id = $1', [user.userId]) : [];
      return {
        user: { id: user.userId, email: user.email, name: u?.name ?? null, language: u?.language ?? org.language, role: user.role },
        organisation: { id: org.id, legalName: org.legalName, currency: org.currency, timeZone: org.timeZone },
        today,
      };
    },
  }),
  appRoute({
    method: 'post',
    path: '/me/language',
    scope: 'read',
    body: z.object({ language: LangSchema }),
    handler: async ({ q, user, body }) => {
      if (!user.userId) throw validation(E('key_language'), { field: 'language' });
      await q.query('UPDATE users SET language = $2 WHERE id = $1', [user.userId, body.language]);
      return { ok: true };
    },
  }),
];

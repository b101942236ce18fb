/** Message templates: the list, a template's parts (own or built in), the preview of a draft, saving and resetting. */
import { z } from 'zod';
import { previewTemplate } from '../../../documents/preview.ts';
import { assertTemplate, builtInSource, CHANNEL_PARTS, TEMPLATE_KEYS, TEMPLATE_LABELS, TEMPLATES } from '../../../documents/registry.ts';
import { resetTemplate, saveTemplate } from '../../../documents/repo.ts';
import { VARIABLES } from '../../../documents/variables.ts';
import { appRoute } from './common.ts';
import { Lang, Ok } from './shapes/common.ts';
import type { TemplateListResponse, TemplatePreviewResponse, TemplateSourcesResponse } from './shapes/templates.ts';

const TemplateParams = z.object({ key: z.string(), channel: z.string(), lang: Lang });
const Parts = z.record(z.string(), z.string());

export const templateRoutes = [
  appRoute({
    method: 'get',
    path: '/templates',
    scope: 'read',
    response: z.custom<TemplateListResponse>(),
    handler: async ({ q, orgId }) => {
      const rows = await q.query<{ key: string; lang: string; channel: string; part: string; updated_at: string }>(
        'SELECT key, lang, channel, part, updated_at FROM document_templates WHERE organisation_id = $1',
        [orgId],
      );
      return {
        templates: TEMPLATE_KEYS.map((key) => ({
          key,
          label: TEMPLATE_LABELS[key],
          channels: TEMPLATES[key].channels,
          overridden: rows.filter((x) => x.key === key).map((x) => `${x.channel}/${x.lang}/${x.part}`),
        })),
        parts: CHANNEL_PARTS,
        variables: VARIABLES,
      };
    },
  }),
  appRoute({
    method: 'get',
    path: '/templates/:key/:channel/:lang',
    scope: 'read',
    params: TemplateParams,
    response: z.custom<TemplateSourcesResponse>(),
    handler: async ({ q, orgId, params }) => {
      const { key, channel } = assertTemplate(params.key, params.channel, { field: 'key' });
      const lang = params.lang;
      const rows = await q.query<{ part: string; source: string }>(
        'SELECT part, source FROM document_templates WHERE organisation_id = $1 AND key = $2 AND lang = $3 AND channel = $4',
        [orgId, key, lang, channel],
      );
      const parts: Record<string, { source: string; builtIn: string; overridden: boolean }> = {};
      for (const part of CHANNEL_PARTS[channel]) {
        const builtIn = builtInSource(lang, key, channel, part).source;
        const own = rows.find((x) => x.part === part);
        parts[part] = { source: own?.source ?? builtIn, builtIn, overridden: Boolean(own) };
      }
      return { key, channel, lang, parts };
    },
  }),
  /**
   * A draft template rendered on the sample documents: previews run one at a time outside any
   * transaction (src/documents/preview.ts), so heavy drafts sent together cannot freeze the server.
   */
  appRoute({
    method: 'post',
    path: '/templates/preview',
    scope: 'read',
    readOnly: true,
    response: z.custom<TemplatePreviewResponse>(),
    body: z.object({ key: z.string(), channel: z.string(), lang: Lang, parts: Parts.optional(), sample: z.string().optional() }),
    handler: async ({ q, orgId, body }) => previewTemplate(q, orgId, body),
  }),
  appRoute({
    method: 'put',
    path: '/templates/:key/:channel/:lang',
    scope: 'admin',
    params: TemplateParams,
    response: Ok,
    body: z.object({ parts: Parts.optional() }),
    handler: async ({ q, orgId, params, body }) => {
      for (const [part, source] of Object.entries(body.parts ?? {})) {
        await saveTemplate(q, orgId, { key: params.key, channel: params.channel, lang: params.lang, part, source });
      }
      return { ok: true };
    },
  }),
  appRoute({
    method: 'delete',
    path: '/templates/:key/:channel/:lang',
    scope: 'admin',
    params: TemplateParams,
    response: Ok,
    handler: async ({ q, orgId, params }) => {
      const { key, channel } = assertTemplate(params.key, params.channel, { field: 'key' });
      for (const part of CHANNEL_PARTS[channel]) await resetTemplate(q, orgId, { key, channel, lang: params.lang, part });
      return { ok: true };
    },
  }),
];

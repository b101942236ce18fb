/**
 * What the web app's routes share: their declaration (the /api/v1 route() with the /api/app
 * prefix), files sent back, and files received as multipart uploads.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { assertAmountInRange, type Minor } from '../../../domain/money.ts';
import { validation } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { type HandlerArgs, type RouteDef, route } from '../define.ts';
import type { Serialisable } from './shapes/common.ts';

const E = defineErrors('web-files', {
  multipart: { fr: "envoyez le fichier en multipart/form-data", en: "send the file as multipart/form-data" },
  no_file: { fr: "aucun fichier dans l’envoi (champ « file »)", en: "no file in the upload (field \"file\")" },
});

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * A web app route: path relative to /api/app, `scope` the role it needs (read: any member; write:
 * collectors and admins; admin). Its answer is typed by `response` (the shapes the web app reads).
 */
export function appRoute<P extends z.ZodObject<any> | undefined, Q extends z.ZodObject<any> | undefined, B extends z.ZodType | undefined, R = unknown>(
  r: Omit<RouteDef, 'handler' | 'params' | 'query' | 'body' | 'response' | 'operationId' | 'summary' | 'tag'> & {
    params?: P;
    query?: Q;
    body?: B;
    /** The type of the answer (a shape of ./shapes, shared with the web app). */
    response?: z.ZodType<R>;
    handler: (a: HandlerArgs<Out<P>, Out<Q>, Out<B>>) => Promise<NoInfer<Serialisable<R>> | Response>;
  },
): RouteDef {
  return route({ ...r, path: `/api/app${r.path}`, operationId: `app ${r.method} ${r.path}`, summary: '', tag: 'app', response: (r.response ?? null) as never } as never);
}

/** An amount of a request within the bounds of every amount that enters (MAX_AMOUNT_MINOR). */
export const minorIn = (v: string | number, field: string): Minor => assertAmountInRange(BigInt(v), String(v), 'EUR', { field });

export function download(bytes: Uint8Array, contentType: string, filename: string, inline = false): Response {
  return new Response(new Uint8Array(bytes), {
    headers: {
      'content-type': contentType,
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'x-content-type-options': 'nosniff',
      // A stored message opened in the browser runs no script and loads nothing (PDFs excepted:
      // the browser's viewer refuses to show one in a sandboxed document).
      ...(contentType === 'application/pdf' ? {} : { 'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox" }),
    },
  });
}

export async function uploaded(c: Context): Promise<{ bytes: Buffer; filename: string; fields: Record<string, string> }> {
  const form = await c.req.formData().catch(() => {
    throw validation(E('multipart'), { field: 'file' });
  });
  const file = form.get('file');
  if (!file || typeof file === 'string') throw validation(E('no_file'), { field: 'file' });
  // Its size was bounded while it streamed in (src/http/limits.ts: RELANCE_MAX_UPLOAD_BYTES).
  const fields: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === 'string') fields[k] = v;
  return { bytes: Buffer.from(await file.arrayBuffer()), filename: file.name || 'upload', fields };
}

/**
 * Request body limits per route: JSON bodies up to RELANCE_MAX_BODY_BYTES (default 1 MiB), file
 * uploads (imports, bank statements, inbound mail; the logo, which its route bounds to 1 MiB) up to RELANCE_MAX_UPLOAD_BYTES (default
 * 100 MiB). A declared Content-Length over the limit is refused before a byte is read; a chunked
 * body is counted as it streams in and refused as soon as it passes the limit (hono's bodyLimit),
 * so a 300 MB upload is never buffered to be refused. The answer is 413 problem+json ('too_large').
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES } from '../config.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('http-limits', {
  too_large_json: {
    fr: "le corps de la requête dépasse les {size} autorisés pour du JSON (l’exploitant règle la limite avec RELANCE_MAX_BODY_BYTES)",
    en: "the request body is larger than the {size} allowed for JSON (the operator sets the limit with RELANCE_MAX_BODY_BYTES)",
  },
  too_large_upload: {
    fr: "le fichier envoyé dépasse les {size} autorisés (l’exploitant règle la limite avec RELANCE_MAX_UPLOAD_BYTES)",
    en: "the uploaded file is larger than the {size} allowed (the operator sets the limit with RELANCE_MAX_UPLOAD_BYTES)",
  },
});

/** Routes that take a file: the upload limit. */
const UPLOAD_ROUTES = [/^\/api\/app\/imports$/, /^\/api\/app\/settings\/logo$/, /^\/api\/app\/bank\/import$/, /^\/api\/v1\/imports\//, /^\/api\/v1\/bank-statements$/, /^\/api\/v1\/inbound$/];

export const isUploadRoute = (path: string) => UPLOAD_ROUTES.some((r) => r.test(path));

/** "1 MiB", "100 MiB", "512 KiB", "17 B". */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) if (bytes >= n && bytes % (n / 4) === 0) return `${bytes / n} ${unit}`;
  return `${bytes} B`;
}

export function bodyLimits(limits: { maxBodyBytes?: number; maxUploadBytes?: number }): MiddlewareHandler {
  const json = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const upload = limits.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const refuse = (size: number, upload: boolean) => (): never => {
    throw new RelanceError(
      ERROR_CODES.TOO_LARGE,
      E(upload ? 'too_large_upload' : 'too_large_json', { size: formatSize(size) }),
      { where: { field: 'body' }, details: { limitBytes: size } },
    );
  };
  const forJson = bodyLimit({ maxSize: json, onError: refuse(json, false) });
  const forUpload = bodyLimit({ maxSize: upload, onError: refuse(upload, true) });
  return (c: Context, next) => (isUploadRoute(c.req.path) ? forUpload(c, next) : forJson(c, next));
}

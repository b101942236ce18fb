/**
 * The web app's built files (web/dist, from `npm run build:web`) served by the same Hono app as
 * the API, on the same origin: the session cookie needs no CORS. Hashed assets are cached for a
 * year; every other GET that is not an API path gets index.html (the SPA routes in the browser).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

export const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Relance</title>
<p>The web app is not built: run <code>npm run build:web</code> (or <code>npm start</code>, which builds it first).</p>`;

export function registerStatic(app: Hono, dist: string = WEB_DIST): void {
  const cache = new Map<string, Buffer>();
  const read = (file: string): Buffer | null => {
    const hit = cache.get(file);
    if (hit) return hit;
    if (!existsSync(file) || !statSync(file).isFile()) return null;
    const buf = readFileSync(file);
    // Only hashed assets are immutable; index.html is read again so a rebuild shows at once.
    if (file.includes(`${sep}assets${sep}`)) cache.set(file, buf);
    return buf;
  };
  app.get('*', async (c, next) => {
    const path = decodeURIComponent(new URL(c.req.url).pathname);
    if (path.startsWith('/api/') || path === '/api') return next();
    const file = normalize(join(dist, path));
    if (file.startsWith(dist + sep) && extname(file)) {
      const buf = read(file);
      if (buf) {
        return new Response(new Uint8Array(buf), {
          headers: {
            'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
            'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
            'x-content-type-options': 'nosniff',
          },
        });
      }
      if (path.startsWith('/assets/')) return c.text('not found', 404);
    }
    const index = read(join(dist, 'index.html'));
    return new Response(index ? new Uint8Array(index) : NOT_BUILT, {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'same-origin',
      },
    });
  });
}

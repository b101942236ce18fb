/**
 * Builds the web app once, before any test file starts, when web/dist is older than its sources
 * (web/ and the src/ files it imports). Browser tests used to build it each in their own beforeAll:
 * two files running in parallel emptied web/dist under each other's server, and the page they had
 * loaded asked for scripts that were gone (the whole browser suite timed out in CI).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default async function setup(): Promise<void> {
  const index = join(ROOT, 'web/dist/index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  if (built > Math.max(newestMtime(join(ROOT, 'web')), newestMtime(join(ROOT, 'src')))) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'error' });
}

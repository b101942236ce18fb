/**
 * The shape of the code (issue 18): no import cycle in src/ (a module imported first must never
 * meet a half-initialised one: importing routes/misc.ts or routes/define.ts first used to throw
 * "Cannot access 'Id' before initialization"), and each HTTP module loads on its own.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(resolve(p));
  }
  return out;
}

/** Runtime imports only: `import type` and `import { type A }` vanish at compile time. */
function runtimeImports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)([^'"]*?)from\s+'(\.[^']+)'/gms)) {
    const names = m[1]!.trim();
    const onlyTypes = /^\{[^}]*\}$/.test(names) && names.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((n) => n.startsWith('type'));
    const target = resolve(dirname(file), m[2]!);
    if (!onlyTypes && known.has(target)) deps.push(target);
  }
  return deps;
}

/** Strongly connected components of more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) found.push(c.map((x) => relative(SRC, x)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('the shape of src/', () => {
  it('has no import cycle', () => {
    const files = sources(SRC);
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, runtimeImports(f, known)]));
    expect(cycles(graph)).toEqual([]);
    // the detector sees imports at all (a check that cannot fail is no check)
    expect(graph.get(resolve(SRC, 'http/app.ts'))!.length).toBeGreaterThan(3);
  });

  it.each(['http/routes/misc.ts', 'http/routes/define.ts', 'http/auth.ts', 'http/context.ts', 'reports/kpis.ts'])('%s loads when imported first', (m) => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', `import('./src/${m}').then((x) => console.log(Object.keys(x).length))`], { cwd: ROOT, encoding: 'utf8' });
    expect(Number(out.trim())).toBeGreaterThan(0);
  });
});

/**
 * The embedded database (PGlite) is one PostgreSQL instance inside one process: two processes on
 * the same data folder would each run their own on the same files and corrupt them sooner or
 * later. A lock file in the data folder (`relance.lock`: pid, start time, command, host) says who
 * holds it. A second process refuses with what holds it and how to proceed; a lock left by a
 * process that died (killed, crashed, machine restarted) is detected — no such pid, or a pid now
 * used by another program (its start time differs) — and taken over.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('db-lock', {
  in_use: {
    fr: "la base embarquée de {dir} est utilisée par le processus {pid} ({command}, démarré le {startedAt}{host}) : une seule application peut l’ouvrir à la fois. Arrêtez ce processus (en général `relance serve`) puis relancez la commande, ou lancez-la sur PostgreSQL avec DATABASE_URL",
    en: "the embedded database in {dir} is in use by process {pid} ({command}, started {startedAt}{host}): only one program may open it at a time. Stop that process (usually `relance serve`) and run the command again, or run it against PostgreSQL with DATABASE_URL",
  },
  on_host: { fr: " sur la machine {host}", en: " on host {host}" },
});

export const LOCK_FILE = 'relance.lock';

export interface LockInfo {
  pid: number;
  /** The process's start time as the kernel counts it (Linux /proc), to tell a reused pid. */
  procStart: string | null;
  startedAt: string;
  command: string;
  host: string;
  token: string;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (null elsewhere). */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote `info` is gone (so its lock may be taken over). */
export function isStale(info: LockInfo): boolean {
  if (info.host !== hostname()) return false; // another machine (shared folder): we cannot tell
  if (!alive(info.pid)) return true;
  const now = procStart(info.pid);
  return info.procStart !== null && now !== null && now !== info.procStart;
}

function readLock(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

export interface DataDirLock {
  info: LockInfo;
  release(): void;
}

/**
 * Takes the data folder's lock for this process, or throws 'in_use' naming the holder. Released
 * by `release()` and, failing that, when the process exits.
 */
export function lockDataDir(dataDir: string, command = process.argv.slice(1).join(' ')): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    procStart: procStart(process.pid),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    command: command.replace(/^.*?bin\/relance(\.mjs)?\s*/, 'relance ').slice(0, 200) || 'relance',
    host: hostname(),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      const release = () => {
        process.off('exit', release);
        if (readLock(file)?.token === info.token) {
          try {
            unlinkSync(file);
          } catch {
            // already gone
          }
        }
      };
      process.on('exit', release);
      return { info, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readLock(file);
    // A lock being written right now reads as nothing for an instant; an old unreadable one is debris.
    const debris = held === null && Date.now() - safeMtime(file) > 10_000;
    if (held && !isStale(held)) {
      throw new RelanceError(
        ERROR_CODES.IN_USE,
        E('in_use', { dir: dataDir, pid: held.pid, command: held.command, startedAt: held.startedAt, host: held.host === hostname() ? '' : E('on_host', { host: held.host }) }),
        { where: { file }, details: held },
      );
    }
    if (held || debris) {
      // Moved aside rather than deleted: of two processes taking over at once, one rename wins.
      const aside = `${file}.stale-${process.pid}-${info.token}`;
      try {
        renameSync(file, aside);
        const moved = readLock(aside);
        // What was moved is not what was judged stale (someone took over in between): put it back.
        if (held && moved && moved.token !== held.token) renameSync(aside, file);
        else unlinkSync(aside);
      } catch {
        // the other process moved it first
      }
    } else {
      // Unreadable and fresh: its writer is finishing; look again.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  const held = readLock(file);
  throw new RelanceError(
    ERROR_CODES.IN_USE,
    E('in_use', { dir: dataDir, pid: held?.pid ?? '?', command: held?.command ?? '?', startedAt: held?.startedAt ?? '?', host: '' }),
    { where: { file } },
  );
}

function safeMtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

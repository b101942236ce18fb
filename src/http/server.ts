import { serve } from '@hono/node-server';
import type { Db } from '../db/driver.ts';
import { createApp } from './app.ts';
import type { HttpOptions } from './context.ts';
import type { SetupGate } from './setup.ts';

export interface RunningServer {
  url: string;
  /** The same server seen from this machine (127.0.0.1 when it listens on every interface). */
  localUrl: string;
  close(): Promise<void>;
}

export function startServer(db: Db, opts: { port: number; host: string; now?: () => Date; options?: Partial<HttpOptions>; setup?: SetupGate }): Promise<RunningServer> {
  const app = createApp({ db, now: opts.now ?? (() => new Date()), options: opts.options, setup: opts.setup });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, (info) => {
      const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
      const local = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        localUrl: `http://${local}:${info.port}`,
        close: () => new Promise<void>((res) => server.close(() => res())),
      });
    });
  });
}

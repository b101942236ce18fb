/**
 * Group commit: callers add one item each and wait for its own result; the items that arrive
 * while a write is running, or in the same turn of the event loop, go together in the next write
 * (one statement or transaction for all of them). Nothing is written before it is asked for.
 * The worker uses it for hand-overs (each message still leaves only once its own hand-over
 * committed) and for recording what went out.
 *
 * A write starts on setImmediate, not on the next microtask: the embedded database runs each
 * query synchronously inside the process, so the I/O callbacks already waiting (other SMTP
 * connections reaching DATA) must get their turn to join before it starts. `lingerMs` lets a
 * group wait a little longer for company when nobody waits on its result (what went out).
 */
export class GroupCommit<I, O> {
  private pending: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly opts: { maxItems?: number; lingerMs?: number } = {},
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) this.running = this.flush();
    });
  }

  /** Resolves once everything added so far is written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async flush(): Promise<void> {
    const max = this.opts.maxItems ?? 256;
    try {
      while (this.pending.length) {
        const linger = this.opts.lingerMs ?? 0;
        if (linger > 0 && this.pending.length < max) await new Promise((r) => setTimeout(r, linger));
        else await new Promise((r) => setImmediate(r));
        const group = this.pending.splice(0, max);
        try {
          const out = await this.write(group.map((g) => g.item));
          for (const [k, g] of group.entries()) g.resolve(out[k] as O);
        } catch (e) {
          for (const g of group) g.reject(e);
        }
      }
    } finally {
      this.running = null;
    }
  }
}

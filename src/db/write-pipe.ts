/**
 * The one way Relance keeps Node and the database busy at once over one connection: a write is
 * sent and, while the database works on it, the caller prepares the next one (parses the next
 * chunk of a file, validates the next batch, plans the next customers). At most one write is in
 * flight, so memory stays flat. Used by the CSV and FEC imports, the bulk loader and the daily
 * cycle.
 */
export class WritePipe {
  private pending: Promise<unknown> | null = null;

  /** Waits for the write in flight (its failure is thrown here), then starts `write` without waiting for it. */
  async push(write: () => Promise<unknown>): Promise<void> {
    if (this.pending) await this.pending;
    this.pending = write();
    // Surface a failure at the next await rather than as an unhandled rejection.
    this.pending.catch(() => {});
  }

  /** Waits for the last write; its failure is thrown here. */
  async drain(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (p) await p;
  }

  /**
   * Leaving on an error: waits for what is in flight, whatever its outcome, so the transaction
   * does not give its connection back under a running statement.
   */
  async settle(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (p) await p.catch(() => {});
  }
}

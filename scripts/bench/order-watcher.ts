/**
 * Outcomes of orders answered 202 (the saga runs on), read from their rows in the bench
 * database rather than from the API, so that watching adds no load to the API or Temporal.
 */

/**
 * Watches the status of orders answered 202 in the database: every `intervalMs`, one
 * query for all of them. Resolves each when its row is CONFIRMED or CANCELLED
 * (COMPENSATION_FAILED, or no outcome within `timeoutMs`: ERROR).
 */
export class OrderWatcher {
  readonly #query: (ids: string[]) => Promise<{ id: string; status: string }[]>;
  readonly #waiting = new Map<string, { resolve: (o: 'CONFIRMED' | 'CANCELLED' | 'ERROR') => void; deadline: number }>();
  readonly #timer: NodeJS.Timeout;
  readonly #timeoutMs: number;
  #busy = false;

  constructor(query: (ids: string[]) => Promise<{ id: string; status: string }[]>, intervalMs = 100, timeoutMs = 60_000) {
    this.#query = query;
    this.#timeoutMs = timeoutMs;
    this.#timer = setInterval(() => void this.#tick(), intervalMs);
    this.#timer.unref();
  }

  /** Resolves with the outcome of `orderId` (ERROR after `timeoutMs` or on close); never rejects. */
  watch = (orderId: string): Promise<'CONFIRMED' | 'CANCELLED' | 'ERROR'> =>
    new Promise((resolve) => this.#waiting.set(orderId, { resolve, deadline: performance.now() + this.#timeoutMs }));

  async #tick(): Promise<void> {
    if (this.#busy || this.#waiting.size === 0) return;
    this.#busy = true;
    try {
      const rows = await this.#query([...this.#waiting.keys()]);
      for (const { id, status } of rows) {
        const w = this.#waiting.get(id);
        if (!w || status === 'PENDING') continue;
        this.#waiting.delete(id);
        w.resolve(status === 'CONFIRMED' ? 'CONFIRMED' : status === 'CANCELLED' ? 'CANCELLED' : 'ERROR');
      }
    } catch {
      // the next tick tries again
    } finally {
      this.#busy = false;
    }
    const now = performance.now();
    for (const [id, w] of this.#waiting) {
      if (now > w.deadline) {
        this.#waiting.delete(id);
        w.resolve('ERROR');
      }
    }
  }

  /** Stops polling; every order still watched resolves ERROR. */
  close(): void {
    clearInterval(this.#timer);
    for (const w of this.#waiting.values()) w.resolve('ERROR');
    this.#waiting.clear();
  }
}

/**
 * The machine-wide hook lock: hooks of every unit on a machine run one at a time, as in Juju.
 * It also knows when the machine last ran one, so background work (the inventory's hashing)
 * can wait for a quiet spell instead of competing with a deploy's hooks for the CPU.
 */
export class MachineLock {
  private tail: Promise<void> = Promise.resolve();
  /** Holders and waiters: zero when no hook runs or waits. */
  private pending = 0;
  private lastActive = Date.now();
  private readonly listeners = new Set<() => void>();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => (release = r));
    this.pending++;
    try {
      await prev;
      return await fn();
    } finally {
      this.pending--;
      this.lastActive = Date.now();
      release();
      for (const l of this.listeners) l();
    }
  }

  /**
   * Resolves once no hook has run or waited for `quietMs`, or after `maxMs` at the latest (a
   * machine that is never quiet still gets its background work done).
   */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const now = Date.now();
      const quietAt = this.pending === 0 ? this.lastActive + quietMs : Infinity;
      if (quietAt <= now || deadline <= now) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.listeners.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(quietAt, deadline) - now);
        this.listeners.add(done);
      });
    }
  }
}

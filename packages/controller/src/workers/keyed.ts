import type { Logger } from '../logger.ts';

export interface KeyedQueueOptions {
  /** The worker's name, for the log. */
  name: string;
  /** Converges one key (a machine, an application). Level-based: it reads what it needs. */
  process: (key: string) => Promise<void> | void;
  log: Logger;
  /** Keys processed at once; the rest wait their turn. */
  concurrency?: number | undefined;
  /** A key still running after this long is logged and retried with backoff once it ends. */
  timeoutMs?: number | undefined;
  /** Retry delays after failures: base × 2^(failures−1), capped. */
  backoffMs?: { base: number; max: number };
}

/**
 * A work queue of keys, after Kubernetes' workqueue: a key added many times is processed
 * once; a key is never processed twice at the same time (added while it runs, it runs once
 * more afterwards); a failing key is retried with exponential backoff while others go on; a
 * key that outlives its timeout is reported, never run beside itself.
 */
export class KeyedQueue {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private scheduled = false;
  /** Keys processed since start, for the worker report. */
  processed = 0;
  /** Failures and timeouts since start. */
  failed = 0;

  constructor(private readonly o: KeyedQueueOptions) {}

  /**
   * Makes `key` due. A change makes a backed-off key due at once (whatever failed may have
   * been fixed); a resync (`resync: true`) leaves it to its backoff.
   */
  add(key: string, o: { resync?: boolean } = {}): void {
    if (this.stopped) return;
    const retry = this.retries.get(key);
    if (retry && o.resync) return;
    if (retry) {
      clearTimeout(retry);
      this.retries.delete(key);
    }
    this.dirty.add(key);
    // Pumped after the current call stack: a key named many times in one go (a commit's
    // changes) runs once, and a commit's subscribers are all told of it before work starts.
    this.pump();
  }

  /** Keys waiting or running: what the worker report shows as its depth. */
  get depth(): number {
    return new Set([...this.dirty, ...this.running]).size;
  }

  /** Whether nothing is waiting, running or backed off. */
  get idle(): boolean {
    return this.dirty.size === 0 && this.running.size === 0 && this.retries.size === 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    this.dirty.clear();
  }

  /**
   * Starts the due keys, one per turn of the event loop. Much of a key's work is synchronous
   * (store reads and writes), so a backlog started in one go would hold the loop for as long
   * as all of it takes: a replica taking over a dead one's 150 machines held new connections
   * in the accept queue for a second per turn, and agents gave up on it. Between keys, the
   * loop serves I/O.
   */
  private pump(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped || this.running.size >= (this.o.concurrency ?? 8)) return;
      for (const key of this.dirty) {
        if (this.running.has(key)) continue;
        this.dirty.delete(key);
        this.running.add(key);
        void this.work(key);
        // Whatever else is due, on the next turn.
        if (this.dirty.size > 0) this.pump();
        return;
      }
    });
  }

  private async work(key: string): Promise<void> {
    const started = performance.now();
    const timeoutMs = this.o.timeoutMs ?? 120_000;
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      this.o.log.warn('worker key is taking long', { worker: this.o.name, key, ms: timeoutMs });
    }, timeoutMs);
    let ok = true;
    try {
      await this.o.process(key);
    } catch (e) {
      ok = false;
      this.o.log.error('worker failed', { worker: this.o.name, key, err: String(e), stack: (e as Error).stack });
    } finally {
      clearTimeout(timer);
    }
    this.processed++;
    this.running.delete(key);
    if (ok && !late) {
      this.failures.delete(key);
      this.o.log.debug('worker ran', { worker: this.o.name, key, ms: Math.round(performance.now() - started) });
    } else {
      this.failed++;
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const { base, max } = this.o.backoffMs ?? { base: 500, max: 60_000 };
      const delay = Math.min(max, base * 2 ** (n - 1));
      if (!this.stopped && !this.dirty.has(key)) {
        this.retries.set(key, setTimeout(() => {
          this.retries.delete(key);
          this.add(key);
        }, delay));
      }
    }
    this.pump();
  }
}

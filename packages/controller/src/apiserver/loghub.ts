import type { LogRecord } from '../state/logs.ts';

export type { LogRecord };

/** Live log fan-out for `debug-log`; the durable copy is in the logs table. */
export class LogHub {
  private readonly subs = new Set<(r: LogRecord) => void>();

  publish(r: LogRecord): void {
    for (const s of this.subs) s(r);
  }

  subscribe(fn: (r: LogRecord) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

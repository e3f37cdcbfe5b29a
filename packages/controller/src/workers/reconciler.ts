import type { Reconcile, WorkerContext } from './context.ts';

/**
 * Runs the controller's workers in order whenever something changed (and on a slow tick,
 * to catch what nothing announces, such as a dead agent process). Runs never overlap: a
 * wake-up during a run schedules exactly one more run. A failing worker is logged and
 * retried on the next run; it never stops the others.
 */
export class Reconciler {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: WorkerContext, private readonly workers: [string, Reconcile][], private readonly tickMs = 2000) {}

  start(signal: AbortSignal): void {
    const tick = () => {
      this.wake();
      this.timer = setTimeout(tick, this.tickMs);
    };
    tick();
    signal.addEventListener('abort', () => clearTimeout(this.timer));
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      for (const [name, work] of this.workers) {
        try {
          await work(this.ctx);
        } catch (e) {
          this.ctx.log.error('worker failed', { worker: name, err: String(e), stack: (e as Error).stack });
        }
      }
    } while (this.again);
    this.running = false;
  }
}

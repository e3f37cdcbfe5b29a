import type { Logger } from '../logger.ts';
import type { UnitBackups } from '../domain/unit-backups.ts';

/**
 * Starts due schedules every second. Each run goes on by itself (an action can take an hour);
 * a schedule is claimed in the store before it starts, so it never runs twice at once.
 */
export async function runSchedules(runner: UnitBackups, log: Logger, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      for (const run of runner.runDue()) {
        run.then(
          (o) => log.info('schedule ran', { unit: o.unit, status: o.status, snapshot: o.snapshot?.id ?? '' }),
          (e: unknown) => log.warn('schedule run failed', { error: e instanceof Error ? e.message : String(e) }),
        );
      }
    } catch (e) {
      log.warn('scheduler failed', { error: e instanceof Error ? e.message : String(e) });
    }
    // The abort listener goes with each wait (the loop runs for the controller's life).
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, 1000);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

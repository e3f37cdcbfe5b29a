import { parseDuration, parseSize } from '@sigil/core';
import { Models } from '../domain/models.ts';
import { LogRepository } from '../state/logs.ts';
import type { Reconcile, WorkerContext } from './context.ts';

/**
 * Keeps each model's log within its `logs-max-size` and `logs-max-age`, at most once per
 * `everyMs` (the reconciler runs far more often than logs need pruning).
 */
export function logPruner(everyMs = 60_000, now: () => number = Date.now): Reconcile {
  let last = -Infinity;
  return (ctx: WorkerContext) => {
    if (now() - last < everyMs) return;
    last = now();
    const logs = new LogRepository(ctx.store);
    for (const m of new Models(ctx.store).list()) {
      const removed = logs.prune(m.name, parseSize(m.config['logs-max-size']), parseDuration(m.config['logs-max-age']), now());
      if (removed > 0) ctx.log.info('model log pruned', { model: m.name, lines: removed });
    }
  };
}

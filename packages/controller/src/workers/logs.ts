import { parseDuration, parseSize } from '@sigil/core';
import { Models } from '../domain/models.ts';
import { LogRepository } from '../state/logs.ts';
import type { WorkerContext } from './context.ts';

/**
 * Keeps one model's log within its `logs-max-size` and `logs-max-age`. Keyed by model
 * (`perModel`), on a 60 s resync: pruning is by time, which no change announces.
 */
export function pruneLogs(ctx: WorkerContext, model: string, now = Date.now()): void {
  const m = new Models(ctx.store).get(model);
  if (!m) return;
  const removed = new LogRepository(ctx.store).prune(model, parseSize(m.config['logs-max-size']), parseDuration(m.config['logs-max-age']), now);
  if (removed > 0) ctx.log.info('model log pruned', { model, lines: removed });
}

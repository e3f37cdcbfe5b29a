import { Models } from '../domain/models.ts';
import { Inventory } from '../domain/inventory/service.ts';
import type { WorkerContext } from './context.ts';

/**
 * Asks agents to collect again each unit of a model whose inventory is older than the
 * model's `audit-interval` (issue 19). Keyed by model (`perModel`), on a 60 s resync.
 */
export function scheduleInventory(ctx: WorkerContext, model: string, now = Date.now()): void {
  const m = new Models(ctx.store).get(model);
  if (!m || m.life !== 'alive') return;
  const due = new Inventory(ctx.store).scheduleDue(model, m.config['audit-interval'], now);
  if (due.length > 0) ctx.log.info('inventory collection scheduled', { model, units: due.length });
}

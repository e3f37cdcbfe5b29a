import { Models } from '../domain/models.ts';
import { Inventory } from '../domain/inventory/service.ts';
import type { Reconcile, WorkerContext } from './context.ts';

/**
 * Asks agents to collect again each unit whose inventory is older than its model's
 * `audit-interval` (issue 19), checking at most once per `everyMs`.
 */
export function inventoryScheduler(everyMs = 60_000, now: () => number = Date.now): Reconcile {
  let last = -Infinity;
  return (ctx: WorkerContext) => {
    if (now() - last < everyMs) return;
    last = now();
    const inventory = new Inventory(ctx.store);
    for (const m of new Models(ctx.store).list()) {
      if (m.life !== 'alive') continue;
      const due = inventory.scheduleDue(m.name, m.config['audit-interval'], now());
      if (due.length > 0) ctx.log.info('inventory collection scheduled', { model: m.name, units: due.length });
    }
  };
}

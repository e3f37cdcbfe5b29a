import { Models } from '../domain/models.ts';
import { Operations } from '../domain/operations.ts';
import type { WorkerContext } from './context.ts';

/**
 * Gives up the operations that can no longer finish (see stuckReason), so `sigil run`,
 * `exec` and `wait` get an answer instead of waiting forever.
 */
export function reapOperations(ctx: WorkerContext): void {
  const ops = new Operations(ctx.store);
  for (const m of new Models(ctx.store).list()) {
    for (const f of ops.failStuck(m.name, (machine) => ctx.awayMs(m.name, machine))) {
      ctx.log.warn('operation failed', { model: m.name, id: f.id, unit: f.unit, reason: f.reason });
    }
  }
}

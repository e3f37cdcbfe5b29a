import { Operations } from '../domain/operations.ts';
import type { WorkerContext } from './context.ts';

/**
 * Gives up the operations that can no longer finish (see stuckReason), so `sigil run`,
 * `exec` and `wait` get an answer instead of waiting forever.
 */
export function reapOperations(ctx: WorkerContext, model: string): void {
  for (const f of new Operations(ctx.store).failStuck(model, (machine) => ctx.awayMs(model, machine))) {
    ctx.log.warn('operation failed', { model, id: f.id, unit: f.unit, reason: f.reason });
  }
}

import { json, type Store } from '../store/store.ts';

/** An action or exec a unit's agent has still to run or finish. */
export interface PendingOperation {
  id: number;
  unit: string;
  kind: 'action' | 'exec';
  name: string;
  status: string;
}

/**
 * Reads of the `operations` table's unfinished rows (`pending` or `running`), in the order
 * they were queued: what the agent views carry and what `wait` reports as busy.
 */
export class PendingOperationRepository {
  constructor(private readonly s: Store) {}

  /** A model's unfinished operations, with when each was queued and started. */
  ofModel(model: string): (PendingOperation & { enqueued: number; started: number | null })[] {
    return this.s.db.prepare("SELECT id, unit, kind, name, status, enqueued, started FROM operations WHERE model = ? AND status IN ('pending', 'running') ORDER BY id").all(model) as (PendingOperation & { enqueued: number; started: number | null })[];
  }

  /** The unfinished operations of the given units, with their parameters. */
  ofUnits(model: string, units: readonly string[]): (PendingOperation & { params: Record<string, unknown> })[] {
    const rows = this.s.db
      .prepare(`SELECT id, unit, kind, name, params, status FROM operations WHERE model = ? AND unit IN (${units.map(() => '?').join(', ')}) AND status IN ('pending', 'running') ORDER BY id`)
      .all(model, ...units) as (PendingOperation & { params: string })[];
    return rows.map(({ params, ...o }) => ({ ...o, params: json(params, {}) }));
  }
}

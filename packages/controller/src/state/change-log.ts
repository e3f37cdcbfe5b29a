import type { Store } from '../store/store.ts';

/** One entry of a model's change log, as `wait` compares it with what each unit has seen. */
export interface ModelChange {
  rev: number;
  kind: string;
  key: string;
  op: string;
}

/** Reads of the `change_log` table for one model (the store itself appends to it and prunes it). */
export class ChangeLogRepository {
  constructor(private readonly s: Store) {}

  /** The model's changes after revision `rev` that an agent may have to act on (not its own `settled` reports, nor charm uploads). */
  since(model: string, rev: number): ModelChange[] {
    return this.s.db.prepare("SELECT rev, kind, key, op FROM change_log WHERE model = ? AND rev > ? AND kind NOT IN ('settled', 'charm')").all(model, rev) as ModelChange[];
  }

  /** When a relation was added: its first entry in the log (undefined once pruned). */
  relationAdded(model: string, id: number): number | undefined {
    const row = this.s.db.prepare("SELECT MIN(at) AS at FROM change_log WHERE model = ? AND kind = 'relation' AND key = ?").get(model, String(id)) as { at: number | null } | undefined;
    return row?.at ?? undefined;
  }
}

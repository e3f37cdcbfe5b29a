import type { ChaosEntry, ChaosFaults, ChaosListener } from '@sigil/api';
import { json, type Store } from '../store/store.ts';

interface Raw {
  model: string;
  relation_id: number;
  consumer: string;
  provider: string;
  endpoint: string;
  faults: string;
  listeners: string;
  created: number;
}

/** An entry as stored; its relation's key is the domain's to fill in (`''` here). */
function toEntry(r: Raw): ChaosEntry {
  return {
    relationId: r.relation_id,
    key: '',
    consumer: r.consumer,
    provider: r.provider,
    endpoint: r.endpoint,
    faults: json<ChaosFaults>(r.faults, {}),
    listeners: json<ChaosListener[]>(r.listeners, []),
    created: r.created,
  };
}

/**
 * The `chaos_relations` table (which relations run through a chaos proxy) and
 * `chaos_epochs` (how far each relation's consumer view has moved on). Callers hold the
 * transaction.
 */
export class ChaosRepository {
  constructor(private readonly s: Store) {}

  list(model: string): ChaosEntry[] {
    return (this.s.db.prepare('SELECT * FROM chaos_relations WHERE model = ? ORDER BY relation_id').all(model) as Raw[]).map(toEntry);
  }

  all(): (ChaosEntry & { model: string })[] {
    return (this.s.db.prepare('SELECT * FROM chaos_relations ORDER BY model, relation_id').all() as Raw[]).map((r) => ({ ...toEntry(r), model: r.model }));
  }

  get(model: string, relationId: number): ChaosEntry | undefined {
    const row = this.s.db.prepare('SELECT * FROM chaos_relations WHERE model = ? AND relation_id = ?').get(model, relationId) as Raw | undefined;
    return row && toEntry(row);
  }

  put(model: string, entry: ChaosEntry): void {
    this.s.db
      .prepare('INSERT OR REPLACE INTO chaos_relations (model, relation_id, consumer, provider, endpoint, faults, listeners, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(model, entry.relationId, entry.consumer, entry.provider, entry.endpoint, JSON.stringify(entry.faults), JSON.stringify(entry.listeners), entry.created);
  }

  /** Whether there was chaos on the relation to delete. */
  delete(model: string, relationId: number): boolean {
    return this.s.db.prepare('DELETE FROM chaos_relations WHERE model = ? AND relation_id = ?').run(model, relationId).changes > 0;
  }

  /** Moves the relation's epoch on (from 1 the first time), so its consumer sees a change. */
  bumpEpoch(model: string, relationId: number): void {
    this.s.db
      .prepare('INSERT INTO chaos_epochs (model, relation_id, epoch) VALUES (?, ?, 1) ON CONFLICT(model, relation_id) DO UPDATE SET epoch = chaos_epochs.epoch + 1')
      .run(model, relationId);
    this.s.changed(model, 'relation', String(relationId));
  }

  epoch(model: string, relationId: number): number | undefined {
    return (this.s.db.prepare('SELECT epoch FROM chaos_epochs WHERE model = ? AND relation_id = ?').get(model, relationId) as { epoch: number } | undefined)?.epoch;
  }
}

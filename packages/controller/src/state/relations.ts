import type { Store } from '../store/store.ts';
import type { RelationEndpoint } from './rows.ts';

/**
 * The change-log key of a relation's scope or bag change made by `owner` (a unit, or an
 * application for its bag): `relation-data` entries wake only the units that read it
 * (`concerns` in @sigil/api).
 */
export function relationData(relationId: number, owner: string): string {
  return `${relationId}:${owner}`;
}

/** Takes the unit out of every relation's scope, recording each scope it leaves. */
export function leaveAllScopes(s: Store, model: string, unit: string): void {
  const rows = s.db.prepare('DELETE FROM relation_scopes WHERE model = ? AND unit = ? RETURNING relation_id').all(model, unit) as { relation_id: number }[];
  for (const r of rows) s.changed(model, 'relation-data', relationData(r.relation_id, unit));
}

/** A relation bag as show-unit reads it, in the store's order. */
export interface Bag {
  owner: string;
  isApp: boolean;
  data: string;
}

/**
 * The writes of the `relations` table, its id sequence (`models.next_relation`) and unit
 * scopes, for the services that make and end relations (reads are in `Reads`). Callers hold
 * the transaction.
 */
export class RelationRepository {
  constructor(private readonly s: Store) {}

  /** The model's next relation id: ids are never reused within a model, as in Juju. */
  nextId(model: string): number {
    return (this.s.db.prepare('UPDATE models SET next_relation = next_relation + 1 WHERE name = ? RETURNING next_relation - 1 AS id').get(model) as { id: number }).id;
  }

  /** A new live relation. Records its change. */
  insert(model: string, id: number, key: string, endpoints: RelationEndpoint[]): void {
    this.s.db.prepare('INSERT INTO relations (model, id, key, life, endpoints) VALUES (?, ?, ?, ?, ?)').run(model, id, key, 'alive', JSON.stringify(endpoints));
    this.s.changed(model, 'relation', String(id));
  }

  /** Records the relation's change. */
  markDying(model: string, id: number): void {
    this.s.db.prepare("UPDATE relations SET life = 'dying' WHERE model = ? AND id = ?").run(model, id);
    this.s.changed(model, 'relation', String(id));
  }

  /** The unit leaves the scope of every relation (a forced removal). Records each scope's change. */
  leaveAllScopes(model: string, unit: string): void {
    leaveAllScopes(this.s, model, unit);
  }

  /** Every bag of a relation, unparsed. */
  bags(model: string, id: number): Bag[] {
    const rows = this.s.db.prepare('SELECT owner, is_app, data FROM relation_settings WHERE model = ? AND relation_id = ?').all(model, id) as { owner: string; is_app: number; data: string }[];
    return rows.map((r) => ({ owner: r.owner, isApp: r.is_app === 1, data: r.data }));
  }
}

import type { Store } from '../store/store.ts';

export type StoreKind = 'local' | 'restic';

/** The controller's one backup store. */
export interface StoreConfig {
  kind: StoreKind;
  location: string;
}

/** A snapshot's record: where its content is in the store (`ref`), and what it added there. */
export interface SnapshotRecord {
  id: string;
  model: string;
  schedule: string;
  unit: string;
  app: string;
  sourcePath: string;
  storeKind: StoreKind;
  ref: string;
  bytes: number;
  added: number;
  created: number;
}

type Raw = { id: string; model: string; schedule: string; unit: string; app: string; source_path: string; store_kind: StoreKind; store_ref: string; bytes: number; created: number };

const toSnapshot = (r: Raw): SnapshotRecord => {
  const { ref, added } = JSON.parse(r.store_ref) as { ref: string; added: number };
  return { id: r.id, model: r.model, schedule: r.schedule, unit: r.unit, app: r.app, sourcePath: r.source_path, storeKind: r.store_kind, ref, bytes: r.bytes, added, created: r.created };
};

/** The `backup_store` row (the store configured) and `backup_snapshots` (what was kept in it). */
export class BackupStoreRepository {
  constructor(private readonly s: Store) {}

  config(): StoreConfig | undefined {
    return this.s.db.prepare('SELECT kind, location FROM backup_store WHERE id = 1').get() as StoreConfig | undefined;
  }

  setConfig(c: StoreConfig, updated: number): void {
    this.s.db.prepare('INSERT INTO backup_store (id, kind, location, updated) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, location = excluded.location, updated = excluded.updated').run(c.kind, c.location, updated);
  }

  addSnapshot(r: SnapshotRecord): void {
    this.s.db.prepare('INSERT INTO backup_snapshots (id, model, schedule, unit, app, source_path, store_kind, store_ref, bytes, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(r.id, r.model, r.schedule, r.unit, r.app, r.sourcePath, r.storeKind, JSON.stringify({ ref: r.ref, added: r.added }), r.bytes, r.created);
  }

  /** The model's snapshots, oldest first. */
  snapshots(model: string): SnapshotRecord[] {
    return (this.s.db.prepare('SELECT * FROM backup_snapshots WHERE model = ? ORDER BY created, id').all(model) as Raw[]).map(toSnapshot);
  }

  snapshot(model: string, id: string): SnapshotRecord | undefined {
    const r = this.s.db.prepare('SELECT * FROM backup_snapshots WHERE model = ? AND id = ?').get(model, id) as Raw | undefined;
    return r ? toSnapshot(r) : undefined;
  }

  /** A schedule's snapshots, newest first: where each is in the store. */
  scheduleSnapshots(model: string, schedule: string): { id: string; storeKind: StoreKind; ref: string }[] {
    const rows = this.s.db.prepare('SELECT id, store_kind, store_ref FROM backup_snapshots WHERE model = ? AND schedule = ? ORDER BY created DESC, id DESC').all(model, schedule) as { id: string; store_kind: StoreKind; store_ref: string }[];
    return rows.map((r) => ({ id: r.id, storeKind: r.store_kind, ref: (JSON.parse(r.store_ref) as { ref: string }).ref }));
  }

  /** Where a snapshot's content is in the store. */
  snapshotRef(model: string, id: string): { storeKind: StoreKind; ref: string } | undefined {
    const r = this.s.db.prepare('SELECT store_kind, store_ref FROM backup_snapshots WHERE model = ? AND id = ?').get(model, id) as { store_kind: StoreKind; store_ref: string } | undefined;
    return r && { storeKind: r.store_kind, ref: (JSON.parse(r.store_ref) as { ref: string }).ref };
  }

  deleteSnapshot(model: string, id: string): void {
    this.s.db.prepare('DELETE FROM backup_snapshots WHERE model = ? AND id = ?').run(model, id);
  }
}

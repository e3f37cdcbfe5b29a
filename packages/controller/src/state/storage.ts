import type { StorageInstanceDoc } from '@sigil/api';
import type { Store } from '../store/store.ts';

export interface StorageRow {
  id: string;
  name: string;
  app: string;
  kind: 'filesystem' | 'block';
  pool: string;
  size: number;
  unit: string;
  owner: string;
  machine: string;
  location: string;
  status: StorageInstanceDoc['status'];
  message: string;
  life: 'alive' | 'dying' | 'dead';
  destroy: boolean;
  since: number;
}

export interface DirectiveRow {
  name: string;
  pool: string;
  size: number;
  count: number;
}

export interface ResourceRow {
  app: string;
  name: string;
  revision: number;
  fingerprint: string;
  size: number;
  filename: string;
  username: string;
  uploaded: number;
}

const COLUMNS = 'id, name, app, kind, pool, size, unit, owner, machine, location, status, message, life, destroy, since';

/** The storage_* and resources tables (issue 20): every statement on them is here. */
export class StorageRepository {
  constructor(private readonly s: Store) {}

  list(model: string): StorageRow[] {
    return (this.s.db.prepare(`SELECT ${COLUMNS} FROM storage_instances WHERE model = ? ORDER BY name, CAST(substr(id, instr(id, '/') + 1) AS INTEGER)`).all(model) as (Omit<StorageRow, 'destroy'> & { destroy: number })[])
      .map((r) => ({ ...r, destroy: r.destroy === 1 }));
  }

  get(model: string, id: string): StorageRow | undefined {
    return this.list(model).find((r) => r.id === id);
  }

  ofUnit(model: string, unit: string): StorageRow[] {
    return this.list(model).filter((r) => r.unit === unit);
  }

  /** The next id of a store name in the model (`data/0`, `data/1`, …): never reused. */
  nextId(model: string, name: string): string {
    const row = this.s.db.prepare('INSERT INTO storage_counters (model, name, next) VALUES (?, ?, 1) ON CONFLICT (model, name) DO UPDATE SET next = storage_counters.next + 1 RETURNING next - 1 AS n').get(model, name) as { n: number };
    return `${name}/${row.n}`;
  }

  insert(model: string, r: Omit<StorageRow, 'since'>): void {
    this.s.db.prepare(`INSERT INTO storage_instances (model, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(model, r.id, r.name, r.app, r.kind, r.pool, r.size, r.unit, r.owner, r.machine, r.location, r.status, r.message, r.life, r.destroy ? 1 : 0, Date.now());
  }

  update(model: string, id: string, f: Partial<Pick<StorageRow, 'unit' | 'owner' | 'machine' | 'location' | 'status' | 'message' | 'life' | 'destroy'>>): void {
    const keys = Object.keys(f) as (keyof typeof f)[];
    if (keys.length === 0) return;
    const values = keys.map((k) => (k === 'destroy' ? (f[k] ? 1 : 0) : f[k]));
    const statusMoved = keys.includes('status') ? ', since = ?' : '';
    this.s.db.prepare(`UPDATE storage_instances SET ${keys.map((k) => `${k} = ?`).join(', ')}${statusMoved} WHERE model = ? AND id = ?`)
      .run(...values, ...(statusMoved ? [Date.now()] : []), model, id);
  }

  delete(model: string, id: string): void {
    this.s.db.prepare('DELETE FROM storage_instances WHERE model = ? AND id = ?').run(model, id);
  }

  directives(model: string, app: string): DirectiveRow[] {
    return this.s.db.prepare('SELECT name, pool, size, count FROM storage_directives WHERE model = ? AND app = ? ORDER BY name').all(model, app) as DirectiveRow[];
  }

  setDirective(model: string, app: string, d: DirectiveRow): void {
    this.s.db.prepare('INSERT OR REPLACE INTO storage_directives (model, app, name, pool, size, count) VALUES (?, ?, ?, ?, ?, ?)').run(model, app, d.name, d.pool, d.size, d.count);
  }

  resources(model: string, app: string): ResourceRow[] {
    return this.s.db.prepare('SELECT app, name, revision, fingerprint, size, filename, username, uploaded FROM resources WHERE model = ? AND app = ? ORDER BY name').all(model, app) as ResourceRow[];
  }

  putResource(model: string, r: ResourceRow, data: Buffer): void {
    this.s.db.prepare('INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)').run(`resource:${r.fingerprint}`, data);
    this.s.db.prepare('INSERT OR REPLACE INTO resources (model, app, name, revision, fingerprint, size, filename, username, uploaded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(model, r.app, r.name, r.revision, r.fingerprint, r.size, r.filename, r.username, r.uploaded);
  }

  resourceContent(fingerprint: string): Buffer | undefined {
    return (this.s.db.prepare('SELECT data FROM blobs WHERE hash = ?').get(`resource:${fingerprint}`) as { data: Buffer } | undefined)?.data;
  }

  /** Drops what belonged to applications that are gone: directives, resources and unreferenced resource blobs. */
  pruneApps(model: string): void {
    this.s.db.prepare('DELETE FROM storage_directives WHERE model = ? AND app NOT IN (SELECT name FROM applications WHERE model = ?)').run(model, model);
    this.s.db.prepare('DELETE FROM resources WHERE model = ? AND app NOT IN (SELECT name FROM applications WHERE model = ?)').run(model, model);
    this.s.db.prepare("DELETE FROM blobs WHERE hash LIKE 'resource:%' AND substr(hash, 10) NOT IN (SELECT fingerprint FROM resources)").run();
  }

  deleteModel(model: string): void {
    for (const t of ['storage_instances', 'storage_counters', 'storage_directives', 'resources']) this.s.db.prepare(`DELETE FROM ${t} WHERE model = ?`).run(model);
  }
}

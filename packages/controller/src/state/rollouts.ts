import type { RolloutDoc } from '@sigil/api';
import type { Store } from '../store/store.ts';

/**
 * The `rollouts` and `unit_charms` tables. A roll-out is one JSON document, written whole
 * by the rollout service and worker; a unit's own charm URL overrides its application's
 * while a roll-out has moved it (and only then).
 */
export class RolloutRepository {
  constructor(private readonly s: Store) {}

  insert(model: string, doc: Omit<RolloutDoc, 'id'>): RolloutDoc {
    const id = Number(this.s.db.prepare('INSERT INTO rollouts (model, app, status, doc, started, updated) VALUES (?, ?, ?, ?, ?, ?)')
      .run(model, doc.app, doc.status, '{}', doc.started, doc.updated).lastInsertRowid);
    const full = { id, ...doc };
    this.update(model, full);
    return full;
  }

  update(model: string, doc: RolloutDoc): void {
    this.s.db.prepare('UPDATE rollouts SET status = ?, doc = ?, updated = ? WHERE model = ? AND id = ?').run(doc.status, JSON.stringify(doc), doc.updated, model, doc.id);
    this.s.changed(model, 'rollout', doc.app);
  }

  /** The application's latest roll-out, whatever its status. */
  latest(model: string, app: string): RolloutDoc | undefined {
    const r = this.s.db.prepare('SELECT doc FROM rollouts WHERE model = ? AND app = ? ORDER BY id DESC LIMIT 1').get(model, app) as { doc: string } | undefined;
    return r ? (JSON.parse(r.doc) as RolloutDoc) : undefined;
  }

  /** Roll-outs that are running or halted (at most one per application), across models when `model` is omitted. */
  active(model?: string): { model: string; doc: RolloutDoc }[] {
    const rows = (model === undefined
      ? this.s.db.prepare("SELECT model, doc FROM rollouts WHERE status IN ('running', 'halted') ORDER BY id").all()
      : this.s.db.prepare("SELECT model, doc FROM rollouts WHERE model = ? AND status IN ('running', 'halted') ORDER BY id").all(model)) as { model: string; doc: string }[];
    return rows.map((r) => ({ model: r.model, doc: JSON.parse(r.doc) as RolloutDoc }));
  }

  /** The latest roll-out of each application of a model (for status). */
  latestPerApp(model: string): Map<string, RolloutDoc> {
    const rows = this.s.db.prepare('SELECT app, doc FROM rollouts WHERE id IN (SELECT MAX(id) FROM rollouts WHERE model = ? GROUP BY app)').all(model) as { app: string; doc: string }[];
    return new Map(rows.map((r) => [r.app, JSON.parse(r.doc) as RolloutDoc]));
  }

  unitCharms(model: string): Map<string, string> {
    const rows = this.s.db.prepare('SELECT unit, charm_url AS url FROM unit_charms WHERE model = ?').all(model) as { unit: string; url: string }[];
    return new Map(rows.map((r) => [r.unit, r.url]));
  }

  pinUnit(model: string, unit: string, charmUrl: string): void {
    this.s.db.prepare('INSERT INTO unit_charms (model, unit, charm_url) VALUES (?, ?, ?) ON CONFLICT (model, unit) DO UPDATE SET charm_url = excluded.charm_url').run(model, unit, charmUrl);
    this.s.changed(model, 'unit', unit);
  }

  unpinUnits(model: string, units: string[]): void {
    for (const u of units) {
      if (this.s.db.prepare('DELETE FROM unit_charms WHERE model = ? AND unit = ?').run(model, u).changes > 0) this.s.changed(model, 'unit', u);
    }
  }

  drained(model: string): Set<string> {
    return new Set((this.s.db.prepare('SELECT unit FROM drained_units WHERE model = ?').all(model) as { unit: string }[]).map((r) => r.unit));
  }

  /**
   * Makes `units` the application's drained units (the rest of its units go back), and
   * moves the drain epoch of each given relation on when the set changed.
   */
  setDrained(model: string, app: string, units: string[], relationIds: number[]): boolean {
    const now = [...this.drained(model)].filter((u) => u.slice(0, u.lastIndexOf('/')) === app).sort();
    const want = [...new Set(units)].sort();
    if (JSON.stringify(now) === JSON.stringify(want)) return false;
    for (const u of now) if (!want.includes(u)) this.s.db.prepare('DELETE FROM drained_units WHERE model = ? AND unit = ?').run(model, u);
    for (const u of want) this.s.db.prepare('INSERT OR IGNORE INTO drained_units (model, unit) VALUES (?, ?)').run(model, u);
    for (const id of relationIds) {
      this.s.db.prepare('INSERT INTO drain_epochs (model, relation_id, epoch) VALUES (?, ?, 1) ON CONFLICT(model, relation_id) DO UPDATE SET epoch = drain_epochs.epoch + 1').run(model, id);
      this.s.changed(model, 'relation', String(id));
    }
    return true;
  }

  drainEpochs(model: string): Map<number, number> {
    const rows = this.s.db.prepare('SELECT relation_id AS id, epoch FROM drain_epochs WHERE model = ?').all(model) as { id: number; epoch: number }[];
    return new Map(rows.map((r) => [r.id, r.epoch]));
  }
}

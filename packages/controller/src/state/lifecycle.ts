import type { Store } from '../store/store.ts';

/**
 * The writes that move entities through their lives once the decision is made (the cleanup,
 * subordinates, leadership and roll-out workers): marking dying, electing, removing the rows
 * of what finished dying. Each records its change; callers hold the transaction.
 */
export class LifecycleRepository {
  constructor(private readonly s: Store) {}

  /** Every model's name and life, by name. */
  models(): { name: string; life: string }[] {
    return this.s.db.prepare('SELECT name, life FROM models ORDER BY name').all() as { name: string; life: string }[];
  }

  setLeader(model: string, app: string, leader: string | null): void {
    this.s.db.prepare('UPDATE applications SET leader = ? WHERE model = ? AND name = ?').run(leader, model, app);
    this.s.changed(model, 'application', app);
  }

  /** A roll-out's last step: the application's charm and the config the new charm keeps. */
  setCharm(model: string, app: string, url: string, config: Record<string, unknown>): void {
    this.s.db.prepare('UPDATE applications SET charm_url = ?, config = ? WHERE model = ? AND name = ?').run(url, JSON.stringify(config), model, app);
    this.s.changed(model, 'application', app);
  }

  markUnitDying(model: string, unit: string): void {
    this.s.db.prepare("UPDATE units SET life = 'dying' WHERE model = ? AND name = ?").run(model, unit);
    this.s.changed(model, 'unit', unit);
  }

  /** `resolved --no-retry` for a unit a roll-out gave up on. */
  resolveWithoutRetry(model: string, unit: string): void {
    this.s.db.prepare("UPDATE units SET resolved = 'no-retry' WHERE model = ? AND name = ?").run(model, unit);
    this.s.changed(model, 'unit', unit);
  }

  /**
   * A dead unit's row goes, and its leadership with it. Besides the unit's own change, it
   * records its principal's (whose subordinates it listed), its machine's (a host counts
   * the units in its containers) and, only when it led, its application's: the siblings
   * of a unit of a large application are not woken by its removal.
   */
  removeUnit(model: string, unit: string, app: string): void {
    const row = this.s.db.prepare('DELETE FROM units WHERE model = ? AND name = ? RETURNING principal, machine').get(model, unit) as { principal: string | null; machine: string | null } | undefined;
    const led = this.s.db.prepare('UPDATE applications SET leader = NULL WHERE model = ? AND leader = ?').run(model, unit).changes > 0;
    this.s.changed(model, 'unit', unit, 'remove');
    if (row?.principal) this.s.changed(model, 'unit', row.principal);
    if (row?.machine) this.s.changed(model, 'machine', row.machine);
    if (led) this.s.changed(model, 'application', app);
  }

  /** How many units are in scope of a relation. */
  inScope(model: string, relationId: number): number {
    return (this.s.db.prepare('SELECT COUNT(*) AS n FROM relation_scopes WHERE model = ? AND relation_id = ?').get(model, relationId) as { n: number }).n;
  }

  /** A relation and its settings and scopes. */
  removeRelation(model: string, relationId: number): void {
    for (const table of ['relations', 'relation_settings', 'relation_scopes'] as const) {
      this.s.db.prepare(`DELETE FROM ${table} WHERE model = ? AND ${table === 'relations' ? 'id' : 'relation_id'} = ?`).run(model, relationId);
    }
    this.s.changed(model, 'relation', String(relationId), 'remove');
  }

  removeApplication(model: string, app: string): void {
    this.s.db.prepare('DELETE FROM applications WHERE model = ? AND name = ?').run(model, app);
    this.s.changed(model, 'application', app, 'remove');
  }

  markMachineDying(model: string, id: string): void {
    this.s.db.prepare("UPDATE machines SET life = 'dying' WHERE model = ? AND id = ?").run(model, id);
    this.s.changed(model, 'machine', id);
  }
}

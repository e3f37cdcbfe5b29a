import type { Store } from '../store/store.ts';
import type { StatusDoc, UnitRow } from './rows.ts';

/**
 * The writes of the `units` table the unit and machine services make (the workers' are in
 * `LifecycleRepository`). Callers hold the transaction.
 */
export class UnitRepository {
  constructor(private readonly s: Store) {}

  /**
   * A new unit. Records its change, and its machine's: the machine's agent learns of new
   * units through its machine, whatever their application.
   */
  insert(model: string, u: { name: string; app: string; machine: string | null; principal: string | null; workload: StatusDoc; agent: StatusDoc }): void {
    this.s.db
      .prepare('INSERT INTO units (model, name, app, machine, principal, life, workload, agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(model, u.name, u.app, u.machine, u.principal, 'alive', JSON.stringify(u.workload), JSON.stringify(u.agent));
    this.s.changed(model, 'unit', u.name);
    if (u.machine !== null) this.s.changed(model, 'machine', u.machine);
  }

  /** Records the unit's change. */
  setLife(model: string, name: string, life: 'dying' | 'dead'): void {
    this.s.db.prepare('UPDATE units SET life = ? WHERE model = ? AND name = ?').run(life, model, name);
    this.s.changed(model, 'unit', name);
  }

  /** Marks an application's live units dying. Records no change: the caller records each unit's. */
  markAppDying(model: string, app: string): void {
    this.s.db.prepare("UPDATE units SET life = 'dying' WHERE model = ? AND app = ? AND life = 'alive'").run(model, app);
  }

  /** `sigil resolve`: how the unit's agent leaves its error state. Records the unit's change. */
  setResolved(model: string, name: string, resolved: Exclude<UnitRow['resolved'], ''>): void {
    this.s.db.prepare('UPDATE units SET resolved = ? WHERE model = ? AND name = ?').run(resolved, model, name);
    this.s.changed(model, 'unit', name);
  }
}

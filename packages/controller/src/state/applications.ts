import type { Store } from '../store/store.ts';

/**
 * The writes of the `applications` table the application and unit services make (the
 * workers' are in `LifecycleRepository`). Each records its application's change unless it
 * says otherwise (as `meta` where no agent's view holds the field); callers hold the
 * transaction.
 */
export class ApplicationRepository {
  constructor(private readonly s: Store) {}

  insert(model: string, app: string, a: { charmUrl: string; config: Record<string, unknown>; constraints: string }): void {
    this.s.db
      .prepare('INSERT INTO applications (model, name, charm_url, config, constraints, life, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(model, app, a.charmUrl, JSON.stringify(a.config), a.constraints, 'alive', Date.now());
    this.s.changed(model, 'application', app);
  }

  /** The options set by the user (the charm's defaults are not stored). */
  setConfig(model: string, app: string, config: Record<string, unknown>): void {
    this.s.db.prepare('UPDATE applications SET config = ? WHERE model = ? AND name = ?').run(JSON.stringify(config), model, app);
    this.s.changed(model, 'application', app);
  }

  setExposed(model: string, app: string, exposed: boolean): void {
    this.s.db.prepare('UPDATE applications SET exposed = ? WHERE model = ? AND name = ?').run(exposed ? 1 : 0, model, app);
    this.s.changed(model, 'application', app, 'meta');
  }

  setConstraints(model: string, app: string, constraints: string): void {
    this.s.db.prepare('UPDATE applications SET constraints = ? WHERE model = ? AND name = ?').run(constraints, model, app);
    this.s.changed(model, 'application', app, 'meta');
  }

  setAnnotations(model: string, app: string, annotations: Record<string, string>): void {
    this.s.db.prepare('UPDATE applications SET annotations = ? WHERE model = ? AND name = ?').run(JSON.stringify(annotations), model, app);
    this.s.changed(model, 'application', app, 'meta');
  }

  /** `n` new principal units: their numbers are taken and the scale grows by as many. */
  addUnits(model: string, app: string, n: number): void {
    this.s.db.prepare('UPDATE applications SET next_unit = next_unit + ?, scale = scale + ? WHERE model = ? AND name = ?').run(n, n, model, app);
    this.s.changed(model, 'application', app, 'meta');
  }

  /** A subordinate unit's number is taken (subordinates do not count in the scale). */
  addSubordinate(model: string, app: string): void {
    this.s.db.prepare('UPDATE applications SET next_unit = next_unit + 1 WHERE model = ? AND name = ?').run(model, app);
    this.s.changed(model, 'application', app, 'meta');
  }

  /** One principal unit fewer (never below zero). Records no change. */
  decrementScale(model: string, app: string): void {
    this.s.db.prepare('UPDATE applications SET scale = MAX(scale - 1, 0) WHERE model = ? AND name = ?').run(model, app);
  }

  /** Records no change: the caller records it after its units and relations. */
  markDying(model: string, app: string): void {
    this.s.db.prepare("UPDATE applications SET life = 'dying' WHERE model = ? AND name = ?").run(model, app);
  }
}

import type { GoalState } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { Reads, type UnitRow } from '../state/rows.ts';
import { ChangeLogRepository } from '../state/change-log.ts';

type Entries = Record<string, { status: string; since?: number }>;

/**
 * A unit's goal state, as Juju's uniter facade computes it (apiserver/facades/agent/uniter
 * GoalStates): the alive and dying units of its application with their workload status
 * (`dying` while dying); and for each non-peer relation of the application, keyed by the
 * local endpoint, the related application with the relation's status, and that
 * application's units. Subordinate units count only when they belong to this unit (Juju
 * compares their principal with the unit asking, so a subordinate's own application lists
 * none of its units: kept as Juju does).
 */
export class GoalStates {
  private readonly reads: Reads;
  private readonly changes: ChangeLogRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.changes = new ChangeLogRepository(s);
  }

  of(model: string, unitName: string): GoalState {
    return this.s.db.transaction(() => {
      const unit = this.reads.mustUnit(model, unitName);
      const result: GoalState = { units: this.units(model, unit.app, unitName), relations: {} };
      for (const r of this.reads.relations(model)) {
        if (r.endpoints.length < 2 || r.endpoints[0]!.app === r.endpoints[1]!.app) continue;
        const local = r.endpoints.find((e) => e.app === unit.app);
        if (local === undefined) continue;
        const since = this.changes.relationAdded(model, r.id);
        const status = { status: this.relationStatus(model, r.id, r.life), ...(since === undefined ? {} : { since }) };
        const entries: Entries = (result.relations[local.name] ??= {});
        for (const e of r.endpoints) {
          if (e.app === unit.app) continue;
          entries[e.app] = status;
          Object.assign(entries, this.units(model, e.app, unitName));
        }
      }
      return result;
    })();
  }

  private units(model: string, app: string, asking: string): Entries {
    const out: Entries = {};
    const rows: UnitRow[] = this.reads.units(model, app);
    for (const u of rows) {
      if (u.principal !== null && u.principal !== asking) continue;
      if (u.life === 'dead') continue;
      out[u.name] = { status: u.life === 'dying' ? 'dying' : u.workload.current, since: u.workload.since };
    }
    return out;
  }

  /** Juju's relation statuses: joining until a unit entered scope, joined, broken once dying. */
  private relationStatus(model: string, id: number, life: string): string {
    if (life !== 'alive') return 'broken';
    return this.reads.relationScope(model, id).length > 0 ? 'joined' : 'joining';
  }
}

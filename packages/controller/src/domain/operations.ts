import { SigilError, validateActionParams } from '@sigil/core';
import type { OperationDoc } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { OperationRepository } from '../state/operations.ts';
import { Reads, type UnitRow } from '../state/rows.ts';
import { stuckReason } from './stuck-operations.ts';

/** Actions (`sigil run`) and commands (`sigil exec`), queued per unit and run by its agent. */
export class Operations {
  private readonly reads: Reads;
  private readonly repo: OperationRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.repo = new OperationRepository(s);
  }

  /** Resolves `app/0`, or `app/leader` as Juju does, to a unit. */
  target(model: string, spec: string): UnitRow {
    if (spec.endsWith('/leader')) {
      const app = this.reads.mustApp(model, spec.slice(0, -'/leader'.length));
      if (app.leader === null) throw new SigilError('conflict', `application "${app.name}" has no leader yet`, 'wait for a unit to start, then try again');
      return this.reads.mustUnit(model, app.leader);
    }
    return this.reads.mustUnit(model, spec);
  }

  enqueueAction(model: string, unitSpec: string, name: string, params: Record<string, unknown>): OperationDoc {
    return this.s.tx(() => {
      const u = this.target(model, unitSpec);
      const app = this.reads.mustApp(model, u.app);
      const { charm } = this.reads.charm(model, app.charmUrl);
      const spec = charm.actions[name];
      if (!spec) {
        const names = Object.keys(charm.actions).sort();
        throw new SigilError('not-found', `action "${name}" not defined for application "${u.app}"`, names.length ? `defined actions: ${names.join(', ')}` : `charm ${charm.meta.name} defines no actions`);
      }
      const full = validateActionParams(spec, params);
      return this.insert(model, u.name, 'action', name, full);
    });
  }

  enqueueExec(model: string, units: string[], command: string, timeoutMs: number): OperationDoc[] {
    return this.s.tx(() => units.map((name) => {
      const u = this.target(model, name);
      if (u.life === 'dead') throw new SigilError('conflict', `unit ${u.name} is dead`);
      return this.insert(model, u.name, 'exec', 'juju-exec', { command, timeout: timeoutMs });
    }));
  }

  private insert(model: string, unit: string, kind: 'action' | 'exec', name: string, params: Record<string, unknown>): OperationDoc {
    const id = this.repo.insert(model, unit, kind, name, params, Date.now());
    return this.get(model, id);
  }

  get(model: string, id: number): OperationDoc {
    const doc = this.repo.get(model, id);
    if (!doc) throw new SigilError('not-found', `operation ${id} not found`);
    return doc;
  }

  /**
   * Fails the operations that can no longer finish by themselves (their unit is gone, or
   * the agent running them lost contact or outlived the command's timeout), so nothing
   * waits on them forever. Returns what it failed.
   */
  failStuck(model: string, awayMs: (machine: string) => number, now = Date.now()): { id: number; unit: string; reason: string }[] {
    return this.s.tx(() => {
      const rows = this.repo.open(model);
      const failed: { id: number; unit: string; reason: string }[] = [];
      for (const r of rows) {
        const u = this.reads.unit(model, r.unit);
        const timeout = r.kind === 'exec' ? (r.params as { timeout?: number }).timeout : undefined;
        const reason = stuckReason({
          id: r.id, unit: r.unit, kind: r.kind, status: r.status, started: r.started ?? undefined, timeoutMs: timeout,
          unitLife: u?.life, machine: u?.machine ?? undefined, agentAwayMs: u?.machine ? awayMs(u.machine) : 0,
        }, now);
        if (reason === undefined) continue;
        this.repo.fail(model, r.id, r.unit, reason, now);
        failed.push({ id: r.id, unit: r.unit, reason });
      }
      return failed;
    });
  }

  appendLog(model: string, id: number, message: string): void {
    this.s.tx(() => {
      const op = this.get(model, id);
      op.log.push({ at: Date.now(), message });
      this.repo.setLog(model, id, op.unit, op.log);
    });
  }
}

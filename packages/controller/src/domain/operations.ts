import { SigilError, validateActionParams } from '@sigil/core';
import type { OperationDoc } from '@sigil/api';
import { json, type Store } from '../store/store.ts';
import { Reads, type UnitRow } from './rows.ts';
import { stuckReason } from './stuck-operations.ts';

/** Actions (`sigil run`) and commands (`sigil exec`), queued per unit and run by its agent. */
export class Operations {
  private readonly reads: Reads;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
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
    const id = Number(this.s.db
      .prepare("INSERT INTO operations (model, unit, kind, name, params, status, enqueued) VALUES (?, ?, ?, ?, ?, 'pending', ?)")
      .run(model, unit, kind, name, JSON.stringify(params), Date.now()).lastInsertRowid);
    this.s.changed(model, 'operation', `${unit}#${id}`);
    return this.get(model, id);
  }

  get(model: string, id: number): OperationDoc {
    const r = this.s.db.prepare('SELECT * FROM operations WHERE model = ? AND id = ?').get(model, id) as Record<string, unknown> | undefined;
    if (!r) throw new SigilError('not-found', `operation ${id} not found`);
    const doc: OperationDoc = {
      id,
      unit: r.unit as string,
      kind: r.kind as OperationDoc['kind'],
      name: r.name as string,
      params: json(r.params as string, {}),
      status: r.status as string,
      message: r.message as string,
      results: json(r.results as string, {}),
      log: json(r.log as string, []),
      enqueued: r.enqueued as number,
    };
    if (r.started !== null) doc.started = r.started as number;
    if (r.completed !== null) doc.completed = r.completed as number;
    return doc;
  }

  /**
   * Fails the operations that can no longer finish by themselves (their unit is gone, or
   * the agent running them lost contact or outlived the command's timeout), so nothing
   * waits on them forever. Returns what it failed.
   */
  failStuck(model: string, awayMs: (machine: string) => number, now = Date.now()): { id: number; unit: string; reason: string }[] {
    return this.s.tx(() => {
      const rows = this.s.db.prepare("SELECT id, unit, kind, status, started, params FROM operations WHERE model = ? AND status IN ('pending', 'running')").all(model) as { id: number; unit: string; kind: 'action' | 'exec'; status: 'pending' | 'running'; started: number | null; params: string }[];
      const failed: { id: number; unit: string; reason: string }[] = [];
      for (const r of rows) {
        const u = this.reads.unit(model, r.unit);
        const timeout = r.kind === 'exec' ? json<{ timeout?: number }>(r.params, {}).timeout : undefined;
        const reason = stuckReason({
          id: r.id, unit: r.unit, kind: r.kind, status: r.status, started: r.started ?? undefined, timeoutMs: timeout,
          unitLife: u?.life, machine: u?.machine ?? undefined, agentAwayMs: u?.machine ? awayMs(u.machine) : 0,
        }, now);
        if (reason === undefined) continue;
        this.s.db.prepare("UPDATE operations SET status = 'failed', message = ?, completed = ? WHERE model = ? AND id = ?").run(reason, now, model, r.id);
        this.s.changed(model, 'operation', `${r.unit}#${r.id}`);
        failed.push({ id: r.id, unit: r.unit, reason });
      }
      return failed;
    });
  }

  appendLog(model: string, id: number, message: string): void {
    this.s.tx(() => {
      const op = this.get(model, id);
      op.log.push({ at: Date.now(), message });
      this.s.db.prepare('UPDATE operations SET log = ? WHERE model = ? AND id = ?').run(JSON.stringify(op.log), model, id);
      this.s.changed(model, 'operation', `${op.unit}#${id}`);
    });
  }
}

import type { OperationDoc, OperationResult } from '@sigil/api';
import { json, type Store } from '../store/store.ts';

/** An operation not yet finished, as the stuck-operation check reads it. */
export interface OpenOperation {
  id: number;
  unit: string;
  kind: 'action' | 'exec';
  status: 'pending' | 'running';
  started: number | null;
  params: Record<string, unknown>;
}

const toDoc = (id: number, r: Record<string, unknown>): OperationDoc => {
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
};

/**
 * The `operations` table: actions and commands queued per unit, claimed and finished by its
 * agent. Each write records the operation's change (`unit#id`); callers hold the transaction.
 */
/** An action or exec a unit's agent has still to run or finish. */
export interface PendingOperation {
  id: number;
  unit: string;
  kind: 'action' | 'exec';
  name: string;
  status: string;
}

export class OperationRepository {
  constructor(private readonly s: Store) {}

  /** Queues a pending operation; returns its id. */
  insert(model: string, unit: string, kind: 'action' | 'exec', name: string, params: Record<string, unknown>, enqueued: number): number {
    const id = Number(this.s.db
      .prepare("INSERT INTO operations (model, unit, kind, name, params, status, enqueued) VALUES (?, ?, ?, ?, ?, 'pending', ?)")
      .run(model, unit, kind, name, JSON.stringify(params), enqueued).lastInsertRowid);
    this.s.changed(model, 'operation', `${unit}#${id}`);
    return id;
  }

  get(model: string, id: number): OperationDoc | undefined {
    const r = this.s.db.prepare('SELECT * FROM operations WHERE model = ? AND id = ?').get(model, id) as Record<string, unknown> | undefined;
    return r ? toDoc(id, r) : undefined;
  }

  /** The model's pending and running operations. */
  open(model: string): OpenOperation[] {
    const rows = this.s.db.prepare("SELECT id, unit, kind, status, started, params FROM operations WHERE model = ? AND status IN ('pending', 'running')").all(model) as (Omit<OpenOperation, 'params'> & { params: string })[];
    return rows.map((r) => ({ ...r, params: json<Record<string, unknown>>(r.params, {}) }));
  }

  fail(model: string, id: number, unit: string, reason: string, completed: number): void {
    this.s.db.prepare("UPDATE operations SET status = 'failed', message = ?, completed = ? WHERE model = ? AND id = ?").run(reason, completed, model, id);
    this.s.changed(model, 'operation', `${unit}#${id}`);
  }

  setLog(model: string, id: number, unit: string, log: OperationDoc['log']): void {
    this.s.db.prepare('UPDATE operations SET log = ? WHERE model = ? AND id = ?').run(JSON.stringify(log), model, id);
    this.s.changed(model, 'operation', `${unit}#${id}`);
  }

  /** Claims a pending operation for its unit's agent; false when it was not pending (run at most once). */
  start(model: string, id: number, started: number): boolean {
    const op = this.s.db.prepare("UPDATE operations SET status = 'running', started = ? WHERE model = ? AND id = ? AND status = 'pending' RETURNING unit").get(started, model, id) as { unit: string } | undefined;
    if (op) this.s.changed(model, 'operation', `${op.unit}#${id}`);
    return op !== undefined;
  }

  finish(model: string, r: OperationResult, completed: number): void {
    const op = this.s.db.prepare('UPDATE operations SET status = ?, message = ?, results = ?, completed = ? WHERE model = ? AND id = ? RETURNING unit').get(r.status, r.message, JSON.stringify(r.results), completed, model, r.id) as { unit: string } | undefined;
    if (op) this.s.changed(model, 'operation', `${op.unit}#${r.id}`);
  }

  /** A model's unfinished operations, with when each was queued and started. */
  pendingOfModel(model: string): (PendingOperation & { enqueued: number; started: number | null })[] {
    return this.s.db.prepare("SELECT id, unit, kind, name, status, enqueued, started FROM operations WHERE model = ? AND status IN ('pending', 'running') ORDER BY id").all(model) as (PendingOperation & { enqueued: number; started: number | null })[];
  }

  /** The unfinished operations of the given units, with their parameters. */
  pendingOfUnits(model: string, units: readonly string[]): (PendingOperation & { params: Record<string, unknown> })[] {
    const rows = this.s.db
      .prepare(`SELECT id, unit, kind, name, params, status FROM operations WHERE model = ? AND unit IN (${units.map(() => '?').join(', ')}) AND status IN ('pending', 'running') ORDER BY id`)
      .all(model, ...units) as (PendingOperation & { params: string })[];
    return rows.map(({ params, ...o }) => ({ ...o, params: json(params, {}) }));
  }
}

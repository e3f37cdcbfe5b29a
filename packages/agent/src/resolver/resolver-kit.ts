import type { OperationView, RelationView, UnitView } from '@sigil/api';
import { expect } from 'vitest';
import { commitHook } from './commit.ts';
import { nextOp, type Op } from './resolver.ts';
import { initialState, type HookInfo, type LocalState } from './state.ts';

// Helpers for resolver.test.ts. The tests drive the pure resolver the way the uniter does: ask for the next operation,
// "execute" it by applying its local effect (commitHook for hooks), and ask again until it
// says wait. Each case states the remote change and the hooks Juju would run for it.

export const T0 = 1_000_000;
export const UPDATE_STATUS_DELAY = 300_000;

export function relation(id: number, endpoint: string, remoteApp: string, over: Partial<RelationView> = {}): RelationView {
  return {
    id,
    life: 'alive',
    endpoint,
    interface: endpoint,
    role: 'requirer',
    scope: 'global',
    remoteApp,
    inScope: false,
    members: {},
    remoteAppVersion: 0,
    unitData: {},
    appData: {},
    ...over,
  };
}

/** `db` (id 1) to mysql with two remote units, as a requirer. */
export const db = (over: Partial<RelationView> = {}): RelationView => relation(1, 'db', 'mysql', { members: { 'mysql/0': 0, 'mysql/1': 0 }, ...over });
/** The `cluster` peer relation (id 2) with one other unit of this application. */
export const cluster = (over: Partial<RelationView> = {}): RelationView => relation(2, 'cluster', 'wp', { role: 'peer', members: { 'wp/1': 0 }, ...over });

export function unitView(over: Partial<UnitView> = {}): UnitView {
  return {
    name: 'wp/0',
    app: 'wp',
    life: 'alive',
    principal: null,
    subordinates: [],
    charmUrl: 'local:wp-0',
    charmHash: 'charm-1',
    config: {},
    leader: true,
    leaderSettings: {},
    leaderSettingsVersion: 0,
    resolved: '',
    relations: [],
    operations: [],
    workload: { status: 'unknown', message: '', byCharm: false },
    appStatus: { status: 'unknown', message: '' },
    appUnitStatuses: {},
    agentStatus: 'idle',
    ports: [],
    state: {},
    ...over,
  };
}

export function operation(id: number, kind: OperationView['kind'], name: string): OperationView {
  return { id, kind, name, params: {}, status: 'pending' };
}

/** Everything the loop reads and changes: the uniter's local state, the controller's view of the unit, and the clock. */
export interface World {
  local: LocalState;
  unit: UnitView;
  configHash: string;
  retryHooks: boolean;
  now: number;
  /** Application-bag versions a hook writes, by relation id (what CommitResult.appVersions reports). */
  writes?: (hook: HookInfo) => Record<string, number>;
  /** Hook names that fail the next time they run, as a non-zero exit would. */
  failNext?: Set<string>;
}

export interface Run {
  /** One label per operation executed, e.g. `db-relation-joined mysql/0`, `enter-scope 1`, `retry install`. */
  trace: string[];
  /** The hook infos of every hook run, retried or skipped, in order. */
  hooks: HookInfo[];
  end: Extract<Op, { type: 'wait' }>;
}

export function world(unit: Partial<UnitView> = {}, over: Partial<World> = {}): World {
  // Cloned so that a case mutating its view never leaks into the fixtures other cases share.
  return { local: initialState(), unit: unitView(structuredClone(unit)), configHash: 'config-1', retryHooks: false, now: T0, ...over };
}

export function hookLabel(h: HookInfo): string {
  return h.remoteUnit === undefined ? h.name : `${h.name} ${h.remoteUnit}`;
}

export function viewRelation(w: World, id: number): RelationView {
  const r = w.unit.relations.find((x) => x.id === id);
  if (!r) throw new Error(`relation ${id} is not in the view`);
  return r;
}

export function localRelation(w: World, id: number) {
  const l = w.local.relations[String(id)];
  if (!l) throw new Error(`relation ${id} is not in local state`);
  return l;
}

/**
 * Runs operations until the resolver waits. Hooks succeed (commitHook) unless named in
 * failNext, in which case local state records the failure as the uniter does. The view
 * changes the controller would make are mirrored: a hook run consumes `resolved`, a
 * finished operation leaves the queue, and a write to the peer app bag shows up as that
 * relation's remoteAppVersion.
 */
export function drive(w: World, limit = 100): Run {
  const trace: string[] = [];
  const hooks: HookInfo[] = [];
  for (let i = 0; i < limit; i++) {
    const op = nextOp(w.local, { unit: w.unit, configHash: w.configHash, retryHooks: w.retryHooks }, w.now);
    switch (op.type) {
      case 'wait':
        return { trace, hooks, end: op };
      case 'run-hook':
      case 'retry-hook':
      case 'skip-hook': {
        hooks.push(op.hook);
        const label = `${op.type === 'run-hook' ? '' : `${op.type.slice(0, -5)} `}${hookLabel(op.hook)}`;
        w.unit = { ...w.unit, resolved: '' };
        if (op.type !== 'skip-hook' && w.failNext?.delete(op.hook.name)) {
          trace.push(`${label} (failed)`);
          delete w.local.running;
          w.local.failed = op.hook;
          w.local.retries += 1;
          w.local.nextRetryAt = w.now + Math.min(5000 * 2 ** (w.local.retries - 1), 300_000);
          break;
        }
        trace.push(label);
        const own = op.type === 'skip-hook' ? {} : (w.writes?.(op.hook) ?? {});
        w.local = commitHook(w.local, op.hook, { unit: w.unit, configHash: w.configHash, now: w.now, updateStatusDelay: UPDATE_STATUS_DELAY, ownAppVersions: own });
        for (const [id, v] of Object.entries(own)) {
          const r = viewRelation(w, Number(id));
          if (r.role === 'peer') r.remoteAppVersion = v;
        }
        break;
      }
      case 'run-operation':
        trace.push(`${op.operation.kind} ${op.operation.name}`);
        w.unit = { ...w.unit, operations: w.unit.operations.filter((o) => o.id !== op.operation.id) };
        break;
      case 'enter-scope':
        trace.push(`enter-scope ${op.relationId}`);
        localRelation(w, op.relationId).inScope = true;
        break;
      case 'leave-scope':
        trace.push(`leave-scope ${op.relationId}`);
        localRelation(w, op.relationId).inScope = false;
        break;
      case 'forget-relation':
        trace.push(`forget ${op.relationId}`);
        delete w.local.relations[String(op.relationId)];
        break;
      case 'set-dead':
        trace.push('set-dead');
        w.local.dead = true;
        break;
    }
  }
  throw new Error(`the resolver did not settle after ${limit} operations`);
}

/** A unit that has run its whole start-up sequence and waits for update-status. */
export function settled(unit: Partial<UnitView> = {}, over: Partial<World> = {}): World {
  const w = world(unit, over);
  drive(w);
  return w;
}

/**
 * Juju's ordering guarantees that hold for every run (§2.2, §2.4): start runs straight
 * after the first config-changed; -joined runs once per remote unit and relation, and the
 * next hook on that relation is -changed for the same unit.
 */
export function expectJujuOrdering(hooks: HookInfo[]): void {
  hooks.forEach((h, i) => {
    if (h.name === 'start') expect(hooks[i - 1]?.name, 'start follows config-changed').toBe('config-changed');
  });
  const firstConfig = hooks.findIndex((h) => h.name === 'config-changed');
  if (firstConfig >= 0 && hooks.some((h) => h.name === 'start')) expect(hooks[firstConfig + 1]?.name).toBe('start');
  const joined = new Set<string>();
  hooks.forEach((h, i) => {
    if (!h.name.endsWith('-relation-joined')) return;
    const key = `${h.relationId} ${h.remoteUnit}`;
    expect(joined.has(key), `${key} joined once`).toBe(false);
    joined.add(key);
    const next = hooks.slice(i + 1).find((x) => x.relationId === h.relationId);
    expect(next && { name: next.name, remoteUnit: next.remoteUnit }).toEqual({ name: `${h.endpoint}-relation-changed`, remoteUnit: h.remoteUnit });
  });
}

import type { OperationView, UnitView } from '@sigil/api';
import { describe, expect, it } from 'vitest';
import { nextOp, type Op } from './resolver.ts';
import { initialState, type HookInfo, type LocalState } from './state.ts';
import {
  T0, UPDATE_STATUS_DELAY, relation, db, cluster, operation, type World, world, viewRelation, drive, settled, expectJujuOrdering,
} from './resolver-kit.ts';

describe('a fresh unit', () => {
  const cases: { name: string; unit: Partial<UnitView>; trace: string[] }[] = [
    { name: 'leader, no relations', unit: {}, trace: ['install', 'leader-elected', 'config-changed', 'start'] },
    { name: 'non-leader, no relations', unit: { leader: false }, trace: ['install', 'leader-settings-changed', 'config-changed', 'start'] },
    {
      name: 'alone in its peer relation: relation-created, no -joined',
      unit: { relations: [cluster({ members: {} })] },
      trace: ['install', 'cluster-relation-created', 'enter-scope 2', 'leader-elected', 'config-changed', 'start'],
    },
    {
      name: 'leader with a regular and a peer relation',
      unit: { relations: [cluster(), db()] },
      trace: [
        'install',
        'db-relation-created',
        'enter-scope 1',
        'cluster-relation-created',
        'enter-scope 2',
        'leader-elected',
        'config-changed',
        'start',
        'db-relation-joined mysql/0',
        'db-relation-changed mysql/0',
        'db-relation-joined mysql/1',
        'db-relation-changed mysql/1',
        'cluster-relation-joined wp/1',
        'cluster-relation-changed wp/1',
      ],
    },
    {
      name: 'non-leader with a regular and a peer relation',
      unit: { leader: false, relations: [db(), cluster()] },
      trace: [
        'install',
        'db-relation-created',
        'enter-scope 1',
        'cluster-relation-created',
        'enter-scope 2',
        'leader-settings-changed',
        'config-changed',
        'start',
        'db-relation-joined mysql/0',
        'db-relation-changed mysql/0',
        'db-relation-joined mysql/1',
        'db-relation-changed mysql/1',
        'cluster-relation-joined wp/1',
        'cluster-relation-changed wp/1',
      ],
    },
    {
      name: 'remote application data already written: app -changed, then the units',
      unit: { relations: [db({ members: { 'mysql/0': 4 }, remoteAppVersion: 3 })] },
      trace: ['install', 'db-relation-created', 'enter-scope 1', 'leader-elected', 'config-changed', 'start', 'db-relation-changed', 'db-relation-joined mysql/0', 'db-relation-changed mysql/0'],
    },
  ];

  it.each(cases)('$name', ({ unit, trace }) => {
    const w = world(unit);
    const run = drive(w);
    expect(run.trace).toEqual(trace);
    expectJujuOrdering(run.hooks);
    // Started: the only thing left is update-status, once its timer is due.
    expect(run.end).toEqual({ type: 'wait', until: T0 + UPDATE_STATUS_DELAY });
    expect(w.local).toMatchObject({ installed: true, started: true, configHash: 'config-1' });
    expect(w.local.queued).toBeUndefined();
  });

  it('names the relation and remote unit in relation hooks, and delivers the version it saw', () => {
    const run = drive(world({ relations: [db({ members: { 'mysql/0': 7 } })] }));
    const relHooks = run.hooks.filter((h) => h.relationId !== undefined);
    expect(relHooks).toEqual([
      { name: 'db-relation-created', relationId: 1, endpoint: 'db', remoteApp: 'mysql' },
      { name: 'db-relation-joined', relationId: 1, endpoint: 'db', remoteApp: 'mysql', remoteUnit: 'mysql/0' },
      { name: 'db-relation-changed', relationId: 1, endpoint: 'db', remoteApp: 'mysql', remoteUnit: 'mysql/0', version: 7 },
    ]);
  });

  it('runs nothing while the start-up work is done, and update-status only when due', () => {
    const w = settled();
    expect(drive(w)).toEqual({ trace: [], hooks: [], end: { type: 'wait', until: T0 + UPDATE_STATUS_DELAY } });
    w.now = T0 + UPDATE_STATUS_DELAY - 1;
    expect(drive(w).trace).toEqual([]);
    w.now = T0 + UPDATE_STATUS_DELAY;
    const run = drive(w);
    expect(run.trace).toEqual(['update-status']);
    expect(run.end).toEqual({ type: 'wait', until: T0 + 2 * UPDATE_STATUS_DELAY });
  });
});

describe('changes on a settled unit', () => {
  type Case = { name: string; unit?: Partial<UnitView>; change: (w: World) => void; trace: string[]; hooks?: Partial<HookInfo>[] };
  const rels = { relations: [db(), cluster()] };
  const cases: Case[] = [
    { name: 'nothing changed', change: () => {}, trace: [] },
    { name: 'nothing changed, with relations', unit: rels, change: () => {}, trace: [] },
    { name: 'config changed: config-changed only, no start', unit: rels, change: (w) => (w.configHash = 'config-2'), trace: ['config-changed'] },
    {
      name: 'remote unit settings version bump: one -changed',
      unit: rels,
      change: (w) => (viewRelation(w, 1).members['mysql/1'] = 3),
      trace: ['db-relation-changed mysql/1'],
      hooks: [{ remoteUnit: 'mysql/1', remoteApp: 'mysql', version: 3 }],
    },
    {
      name: 'remote application bag version bump: -changed with no remote unit',
      unit: rels,
      change: (w) => (viewRelation(w, 1).remoteAppVersion = 2),
      trace: ['db-relation-changed'],
      hooks: [{ name: 'db-relation-changed', relationId: 1, remoteApp: 'mysql', version: 2 }],
    },
    {
      name: 'peer application bag written by the leader, seen by another unit',
      unit: { ...rels, leader: false },
      change: (w) => (viewRelation(w, 2).remoteAppVersion = 1),
      trace: ['cluster-relation-changed'],
    },
    {
      name: 'a new remote unit: -joined then -changed',
      unit: rels,
      change: (w) => (viewRelation(w, 1).members['mysql/2'] = 5),
      trace: ['db-relation-joined mysql/2', 'db-relation-changed mysql/2'],
    },
    {
      name: 'a remote unit leaves scope: -departed naming it as the departing unit',
      unit: rels,
      change: (w) => delete viewRelation(w, 1).members['mysql/0'],
      trace: ['db-relation-departed mysql/0'],
      hooks: [{ name: 'db-relation-departed', relationId: 1, remoteUnit: 'mysql/0', departingUnit: 'mysql/0' }],
    },
    {
      name: 'a peer leaves: -departed, no -broken',
      unit: rels,
      change: (w) => delete viewRelation(w, 2).members['wp/1'],
      trace: ['cluster-relation-departed wp/1'],
      hooks: [{ remoteUnit: 'wp/1', departingUnit: 'wp/1' }],
    },
    {
      name: 'relation dying: -departed for each member, -broken, leave scope',
      unit: rels,
      change: (w) => (viewRelation(w, 1).life = 'dying'),
      trace: ['db-relation-departed mysql/0', 'db-relation-departed mysql/1', 'db-relation-broken', 'leave-scope 1'],
      hooks: [{ remoteUnit: 'mysql/0' }, { remoteUnit: 'mysql/1' }, { name: 'db-relation-broken', relationId: 1, remoteApp: 'mysql' }],
    },
    {
      name: 'relation removed from the view: -departed, -broken, forget',
      unit: rels,
      change: (w) => (w.unit.relations = w.unit.relations.filter((r) => r.id !== 1)),
      trace: ['db-relation-departed mysql/0', 'db-relation-departed mysql/1', 'db-relation-broken', 'forget 1'],
      hooks: [{ remoteUnit: 'mysql/0', departingUnit: 'mysql/0' }, { remoteUnit: 'mysql/1', departingUnit: 'mysql/1' }, { relationId: 1 }],
    },
    {
      name: 'peer relation removed from the view: -departed, never -broken',
      unit: rels,
      change: (w) => (w.unit.relations = w.unit.relations.filter((r) => r.id !== 2)),
      trace: ['cluster-relation-departed wp/1', 'forget 2'],
    },
    {
      name: 'a new relation: -created, then -joined/-changed per unit',
      unit: rels,
      change: (w) => w.unit.relations.push(relation(3, 'cache', 'redis', { members: { 'redis/0': 1 } })),
      trace: ['cache-relation-created', 'enter-scope 3', 'cache-relation-joined redis/0', 'cache-relation-changed redis/0'],
    },
    { name: 'becoming leader: leader-elected', unit: { leader: false }, change: (w) => (w.unit.leader = true), trace: ['leader-elected'] },
    { name: 'losing leadership: leader-settings-changed', change: (w) => (w.unit.leader = false), trace: ['leader-settings-changed'] },
    { name: 'leader settings bump on a non-leader', unit: { leader: false }, change: (w) => (w.unit.leaderSettingsVersion = 4), trace: ['leader-settings-changed'] },
    { name: 'leader settings bump on the leader (its own write)', change: (w) => (w.unit.leaderSettingsVersion = 4), trace: [] },
    {
      name: 'unit dying: -departed (self departing) per member, -broken, leave scope; peers not broken; stop, remove, dead',
      unit: rels,
      change: (w) => (w.unit.life = 'dying'),
      trace: [
        'db-relation-departed mysql/0',
        'db-relation-departed mysql/1',
        'db-relation-broken',
        'leave-scope 1',
        'cluster-relation-departed wp/1',
        'leave-scope 2',
        'stop',
        'remove',
        'set-dead',
      ],
      hooks: [{ departingUnit: 'wp/0' }, { departingUnit: 'wp/0' }, {}, { departingUnit: 'wp/0', remoteUnit: 'wp/1' }, {}, {}],
    },
  ];

  it.each(cases)('$name', ({ unit, change, trace, hooks }) => {
    const w = settled(unit);
    change(w);
    const run = drive(w);
    expect(run.trace).toEqual(trace);
    if (hooks) expect(run.hooks).toMatchObject(hooks);
    expectJujuOrdering(run.hooks);
    // Level-based: asking again once settled runs nothing more.
    expect(drive(w).trace).toEqual([]);
  });

  it('does not tell the writer about its own peer application-bag write', () => {
    const w = settled({ relations: [cluster()] }, { writes: (h) => (h.name === 'config-changed' ? { '2': 1 } : {}) });
    w.configHash = 'config-2';
    expect(drive(w).trace).toEqual(['config-changed']);
    expect(viewRelation(w, 2).remoteAppVersion).toBe(1);
    // A later write by someone else (a previous leader's, replayed) is news again.
    viewRelation(w, 2).remoteAppVersion = 2;
    expect(drive(w).trace).toEqual(['cluster-relation-changed']);
  });

  it('does not tell the writer about a peer app-bag write made in its relation hook', () => {
    const w = settled({ relations: [cluster({ members: {} })] }, { writes: (h) => (h.name === 'cluster-relation-joined' ? { '2': 3 } : {}) });
    viewRelation(w, 2).members['wp/1'] = 0;
    expect(drive(w).trace).toEqual(['cluster-relation-joined wp/1', 'cluster-relation-changed wp/1']);
  });

  it('delivers several bumps of one unit as one -changed with the latest version', () => {
    const w = settled({ relations: [db()] });
    viewRelation(w, 1).members['mysql/0'] = 1;
    viewRelation(w, 1).members['mysql/0'] = 6;
    const run = drive(w);
    expect(run.hooks).toMatchObject([{ name: 'db-relation-changed', remoteUnit: 'mysql/0', version: 6 }]);
  });

  it('re-joins a unit that left and came back', () => {
    const w = settled({ relations: [db()] });
    delete viewRelation(w, 1).members['mysql/1'];
    expect(drive(w).trace).toEqual(['db-relation-departed mysql/1']);
    viewRelation(w, 1).members['mysql/1'] = 2;
    expect(drive(w).trace).toEqual(['db-relation-joined mysql/1', 'db-relation-changed mysql/1']);
  });

  it('finishes a dying relation once the controller drops it from the view', () => {
    const w = settled({ relations: [db()] });
    viewRelation(w, 1).life = 'dying';
    drive(w);
    w.unit.relations = [];
    expect(drive(w).trace).toEqual(['forget 1']);
    expect(w.local.relations).toEqual({});
  });
});

describe('a dying unit', () => {
  const cases: { name: string; local: Partial<LocalState>; unit?: Partial<UnitView>; trace: string[] }[] = [
    { name: 'never installed: straight to dead', local: {}, trace: ['set-dead'] },
    { name: 'installed, never started: remove without stop', local: { installed: true }, trace: ['remove', 'set-dead'] },
    { name: 'started: stop then remove', local: { installed: true, started: true }, trace: ['stop', 'remove', 'set-dead'] },
    { name: 'already stopped: remove only', local: { installed: true, started: true, stopped: true }, trace: ['remove', 'set-dead'] },
    {
      name: 'a relation it never created: no hooks for it',
      local: { installed: true, started: true },
      unit: { relations: [db()] },
      trace: ['stop', 'remove', 'set-dead'],
    },
  ];

  it.each(cases)('$name', ({ local, unit, trace }) => {
    const w = world({ life: 'dying', ...unit }, { local: { ...initialState(), configHash: 'config-1', ...local } });
    const run = drive(w);
    expect(run.trace).toEqual(trace);
    expect(run.end).toEqual({ type: 'wait' });
    expect(w.local.dead).toBe(true);
  });

  it('runs no relation-created, leadership, config-changed or update-status hooks', () => {
    const w = settled({ relations: [db()] });
    w.unit.life = 'dying';
    w.unit.leader = false;
    w.unit.leaderSettingsVersion = 9;
    w.configHash = 'config-2';
    w.unit.relations.push(relation(3, 'cache', 'redis'));
    w.now = T0 + 10 * UPDATE_STATUS_DELAY;
    expect(drive(w).trace).toEqual(['db-relation-departed mysql/0', 'db-relation-departed mysql/1', 'db-relation-broken', 'leave-scope 1', 'stop', 'remove', 'set-dead']);
  });

  it('departs with itself as the departing unit, also for a relation the controller removed', () => {
    const w = settled({ relations: [db()] });
    w.unit.life = 'dying';
    w.unit.relations = [];
    const run = drive(w);
    expect(run.trace).toEqual(['db-relation-departed mysql/0', 'db-relation-departed mysql/1', 'db-relation-broken', 'forget 1', 'stop', 'remove', 'set-dead']);
    expect(run.hooks.slice(0, 2).map((h) => h.departingUnit)).toEqual(['wp/0', 'wp/0']);
  });

  it('waits for good once dead', () => {
    const w = settled({ life: 'dying' });
    expect(w.local.dead).toBe(true);
    w.unit.operations = [operation(1, 'exec', 'hostname')];
    expect(drive(w)).toEqual({ trace: [], hooks: [], end: { type: 'wait' } });
  });
});

describe('a failed hook', () => {
  it('a dying unit skips its failed hook and carries on to removal (Sigil: removal never sticks)', () => {
    const w = settled({ relations: [db()] });
    w.local.failed = { name: 'config-changed' };
    w.unit.life = 'dying';
    const run = drive(w);
    expect(run.trace[0]).toBe('skip config-changed');
    expect(run.trace).toContain('stop');
    expect(run.trace[run.trace.length - 1]).toBe('set-dead');
  });

  const failedConfigChanged: HookInfo = { name: 'config-changed' };
  /** A settled unit whose config-changed failed at T0, with work of every kind pending behind it. */
  function stuck(over: Partial<World> = {}): World {
    const w = settled({ relations: [db()] }, over);
    w.local.failed = failedConfigChanged;
    w.local.retries = 1;
    w.local.nextRetryAt = T0 + 5000;
    w.configHash = 'config-2';
    w.unit.leader = false;
    viewRelation(w, 1).members['mysql/0'] = 3;
    viewRelation(w, 1).members['mysql/2'] = 0;
    w.unit.relations.push(relation(3, 'cache', 'redis'));
    w.now = T0 + 2 * UPDATE_STATUS_DELAY;
    return w;
  }
  const pendingAfterFix = ['cache-relation-created', 'enter-scope 3', 'leader-settings-changed'];

  const cases: { name: string; over?: Partial<World>; change?: (w: World) => void; trace: string[]; end: Op }[] = [
    { name: 'no auto-retry: nothing runs, wait without a deadline', trace: [], end: { type: 'wait' } },
    { name: 'auto-retry before the backoff: wait until nextRetryAt', over: { retryHooks: true }, change: (w) => (w.now = T0 + 4999), trace: [], end: { type: 'wait', until: T0 + 5000 } },
    {
      name: 'a queued hook waits too',
      change: (w) => (w.local.queued = { name: 'start' }),
      trace: [],
      end: { type: 'wait' },
    },
    {
      name: 'actions and exec still run (§12.1)',
      change: (w) => (w.unit.operations = [operation(1, 'action', 'backup'), operation(2, 'exec', 'hostname')]),
      trace: ['action backup', 'exec hostname'],
      end: { type: 'wait' },
    },
  ];

  it.each(cases)('$name', ({ over, change, trace, end }) => {
    const w = stuck(over);
    change?.(w);
    const run = drive(w);
    expect(run.trace).toEqual(trace);
    expect(run.end).toEqual(end);
    expect(w.local.failed).toEqual(failedConfigChanged);
  });

  const fixes: { name: string; over?: Partial<World>; change: (w: World) => void; first: string }[] = [
    { name: "resolved 'retry': retry-hook", change: (w) => (w.unit.resolved = 'retry'), first: 'retry config-changed' },
    { name: "resolved 'no-retry': skip-hook", change: (w) => (w.unit.resolved = 'no-retry'), first: 'skip config-changed' },
    { name: 'auto-retry once the backoff has passed', over: { retryHooks: true }, change: (w) => expect(w.now).toBeGreaterThanOrEqual(w.local.nextRetryAt), first: 'retry config-changed' },
  ];

  it.each(fixes)('$name, then the rest of the pending work', ({ over, change, first }) => {
    const w = stuck(over);
    change(w);
    const run = drive(w);
    expect(run.trace).toEqual([
      first,
      ...pendingAfterFix,
      'db-relation-joined mysql/2',
      'db-relation-changed mysql/2',
      'db-relation-changed mysql/0',
      'update-status',
    ]);
    expect(run.hooks[0]).toEqual(failedConfigChanged);
    expect(w.local).toMatchObject({ configHash: 'config-2', retries: 0, nextRetryAt: 0 });
    expect(w.local.failed).toBeUndefined();
  });

  it('keeps start strictly after config-changed across a failure and a retry', () => {
    const w = world({ relations: [db()] }, { failNext: new Set(['config-changed']) });
    const first = drive(w);
    expect(first.trace).toEqual(['install', 'db-relation-created', 'enter-scope 1', 'leader-elected', 'config-changed (failed)']);
    expect(first.end).toEqual({ type: 'wait' });
    w.unit.resolved = 'retry';
    const run = drive(w);
    expect(run.trace).toEqual(['retry config-changed', 'start', 'db-relation-joined mysql/0', 'db-relation-changed mysql/0', 'db-relation-joined mysql/1', 'db-relation-changed mysql/1']);
  });

  it('skipping a failed start marks the unit started and clears the queue', () => {
    const w = world({}, { failNext: new Set(['start']) });
    expect(drive(w).trace).toEqual(['install', 'leader-elected', 'config-changed', 'start (failed)']);
    expect(w.local.queued).toEqual({ name: 'start' });
    w.unit.resolved = 'no-retry';
    const run = drive(w);
    expect(run.trace).toEqual(['skip start']);
    expect(w.local).toMatchObject({ started: true });
    expect(w.local.queued).toBeUndefined();
    expect(run.end).toEqual({ type: 'wait', until: T0 + UPDATE_STATUS_DELAY });
  });

  it('backs off between automatic retries and succeeds on a later one', () => {
    const w = world({}, { retryHooks: true, failNext: new Set(['install']) });
    const first = drive(w);
    expect(first.trace).toEqual(['install (failed)']);
    expect(first.end).toEqual({ type: 'wait', until: T0 + 5000 });
    w.now = T0 + 5000;
    w.failNext = new Set(['install']);
    const second = drive(w);
    expect(second.trace).toEqual(['retry install (failed)']);
    expect(second.end).toEqual({ type: 'wait', until: T0 + 5000 + 10_000 });
    w.now = T0 + 15_000;
    expect(drive(w).trace).toEqual(['retry install', 'leader-elected', 'config-changed', 'start']);
  });
});

describe('actions and exec', () => {
  const cases: { name: string; ops: OperationView[]; trace: string[] }[] = [
    { name: 'an action waits for install', ops: [operation(1, 'action', 'backup')], trace: ['install', 'leader-elected', 'action backup', 'config-changed', 'start'] },
    { name: 'exec does not wait for install', ops: [operation(1, 'exec', 'hostname')], trace: ['exec hostname', 'install', 'leader-elected', 'config-changed', 'start'] },
    {
      name: 'exec overtakes an action before install',
      ops: [operation(1, 'action', 'backup'), operation(2, 'exec', 'hostname')],
      trace: ['exec hostname', 'install', 'leader-elected', 'action backup', 'config-changed', 'start'],
    },
  ];

  it.each(cases)('$name', ({ ops, trace }) => {
    expect(drive(world({ operations: ops })).trace).toEqual(trace);
  });

  it('runs on a settled unit before config-changed and relation hooks', () => {
    const w = settled({ relations: [db()] });
    w.configHash = 'config-2';
    viewRelation(w, 1).members['mysql/0'] = 1;
    w.unit.operations = [operation(5, 'action', 'backup')];
    expect(drive(w).trace).toEqual(['action backup', 'config-changed', 'db-relation-changed mysql/0']);
  });

  it('runs on a dying unit before its teardown hooks', () => {
    const w = settled();
    w.unit.life = 'dying';
    w.unit.operations = [operation(5, 'action', 'backup')];
    expect(drive(w).trace).toEqual(['action backup', 'stop', 'remove', 'set-dead']);
  });
});

describe('a queued hook', () => {
  it('runs before anything else', () => {
    const w = settled({ relations: [db()] });
    w.local.queued = { name: 'start' };
    w.local.started = false;
    w.configHash = 'config-2';
    w.unit.leader = false;
    w.unit.relations.push(relation(3, 'cache', 'redis'));
    viewRelation(w, 1).members['mysql/0'] = 2;
    w.unit.operations = [operation(1, 'exec', 'hostname')];
    w.now = T0 + 10 * UPDATE_STATUS_DELAY;
    const first = nextOp(w.local, { unit: w.unit, configHash: w.configHash, retryHooks: false }, w.now);
    expect(first).toEqual({ type: 'run-hook', hook: { name: 'start' } });
    const run = drive(w);
    expect(run.trace[0]).toBe('start');
    expect(run.trace.slice(1)).not.toContain('start');
    expect(w.local.queued).toBeUndefined();
  });

  it('is the start that the first config-changed queues, even with relation work pending', () => {
    const w = world({ relations: [db()] });
    const run = drive(w);
    const i = run.trace.indexOf('config-changed');
    expect(run.trace[i + 1]).toBe('start');
  });

  it('is the config-changed that upgrade-charm queues, ahead of pending relation work', () => {
    const w = settled({ relations: [db()] });
    w.unit.charmHash = 'charm-2';
    viewRelation(w, 1).members['mysql/0'] = 4;
    const run = drive(w);
    expect(run.trace.slice(0, 2)).toEqual(['upgrade-charm', 'config-changed']);
    expect(run.trace.filter((x) => x === 'upgrade-charm')).toHaveLength(1);
    expect(w.local.charmHash).toBe('charm-2');
  });
});

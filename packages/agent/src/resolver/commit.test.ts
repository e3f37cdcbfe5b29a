import type { RelationView, UnitView } from '@sigil/api';
import { describe, expect, it } from 'vitest';
import { commitHook, type CommitContext } from './commit.ts';
import { initialState, type HookInfo, type LocalRelation, type LocalState } from './state.ts';

// commitHook is the state-in/state-out half of running a hook: these cases give the state
// before, the hook that completed, and the local state Juju's uniter would hold after it.

const NOW = 50_000;
const DELAY = 240_000;

function relationView(id: number, endpoint: string, remoteApp: string, role: RelationView['role']): RelationView {
  return {
    id,
    life: 'alive',
    endpoint,
    interface: endpoint,
    role,
    scope: 'global',
    remoteApp,
    inScope: true,
    members: {},
    remoteAppVersion: 0,
    unitData: {},
    appData: {},
  };
}

const view: UnitView = {
  name: 'wp/0',
  app: 'wp',
  life: 'alive',
  principal: null,
  subordinates: [],
  charmUrl: 'local:wp-1',
  charmHash: 'charm-2',
  config: {},
  leader: true,
  leaderSettings: {},
  leaderSettingsVersion: 6,
  resolved: '',
  relations: [relationView(1, 'shared-db', 'mysql', 'requirer'), relationView(2, 'cluster', 'wp', 'peer')],
  operations: [],
  workload: { status: 'active', message: '', byCharm: true },
  appStatus: { status: 'active', message: '' },
  appUnitStatuses: {},
  agentStatus: 'idle',
  ports: [],
  state: {},
};

function ctx(over: Partial<CommitContext> = {}): CommitContext {
  return { unit: view, configHash: 'config-2', now: NOW, updateStatusDelay: DELAY, ownAppVersions: {}, ...over };
}

function rel(over: Partial<LocalRelation> = {}): LocalRelation {
  return { endpoint: 'shared-db', remoteApp: 'mysql', peer: false, created: true, inScope: true, members: { 'mysql/0': 2, 'mysql/1': -1 }, appVersion: 1, broken: false, ...over };
}

/** A started unit with both relations joined: the usual state a hook commits onto. */
function started(over: Partial<LocalState> = {}): LocalState {
  return {
    ...initialState(),
    installed: true,
    started: true,
    charmHash: 'charm-1',
    leader: true,
    leaderSettingsVersion: 3,
    configHash: 'config-1',
    nextUpdateStatus: 10_000,
    relations: { '1': rel(), '2': rel({ endpoint: 'cluster', remoteApp: 'wp', peer: true, members: { 'wp/1': 0 }, appVersion: 4 }) },
    ...over,
  };
}

const dbHook = (suffix: string, extra: Partial<HookInfo> = {}): HookInfo => ({ name: `shared-db-relation-${suffix}`, relationId: 1, endpoint: 'shared-db', remoteApp: 'mysql', ...extra });

describe('commitHook', () => {
  const cases: { name: string; prev: LocalState; hook: HookInfo; c?: Partial<CommitContext>; next: (prev: LocalState) => LocalState }[] = [
    {
      name: 'install marks the unit installed with the charm it installed',
      prev: initialState(),
      hook: { name: 'install' },
      next: (p) => ({ ...p, installed: true, charmHash: 'charm-2' }),
    },
    {
      name: 'leader-elected records leadership and the leader settings seen',
      prev: started({ leader: false }),
      hook: { name: 'leader-elected' },
      next: (p) => ({ ...p, leader: true, leaderSettingsVersion: 6 }),
    },
    {
      name: 'leader-settings-changed records the settings seen and that this unit is not leader',
      prev: started(),
      hook: { name: 'leader-settings-changed' },
      next: (p) => ({ ...p, leader: false, leaderSettingsVersion: 6 }),
    },
    {
      name: 'the first config-changed queues start',
      prev: started({ started: false, nextUpdateStatus: 0 }),
      hook: { name: 'config-changed' },
      next: (p) => ({ ...p, configHash: 'config-2', queued: { name: 'start' } }),
    },
    {
      name: 'a later config-changed queues nothing',
      prev: started(),
      hook: { name: 'config-changed' },
      next: (p) => ({ ...p, configHash: 'config-2' }),
    },
    {
      name: 'upgrade-charm records the charm, queues config-changed and owes start again',
      prev: started(),
      hook: { name: 'upgrade-charm' },
      next: (p) => ({ ...p, charmHash: 'charm-2', started: false, queued: { name: 'config-changed' } }),
    },
    {
      name: 'start marks the unit started, consumes the queue and schedules update-status',
      prev: started({ started: false, queued: { name: 'start' }, nextUpdateStatus: 0 }),
      hook: { name: 'start' },
      next: (p) => {
        const { queued: _, ...rest } = p;
        return { ...rest, started: true, nextUpdateStatus: NOW + DELAY };
      },
    },
    {
      name: 'update-status schedules the next one',
      prev: started(),
      hook: { name: 'update-status' },
      next: (p) => ({ ...p, nextUpdateStatus: NOW + DELAY }),
    },
    { name: 'stop marks the unit stopped', prev: started(), hook: { name: 'stop' }, next: (p) => ({ ...p, stopped: true }) },
    { name: 'remove marks the unit removed', prev: started({ stopped: true }), hook: { name: 'remove' }, next: (p) => ({ ...p, removed: true }) },
    {
      name: 'relation-created records a new, not yet entered relation',
      prev: started({ relations: {} }),
      hook: dbHook('created'),
      next: (p) => ({ ...p, relations: { '1': { endpoint: 'shared-db', remoteApp: 'mysql', peer: false, created: true, inScope: false, members: {}, appVersion: 0, broken: false } } }),
    },
    {
      name: 'relation-created on a peer endpoint records a peer relation',
      prev: started({ relations: {} }),
      hook: { name: 'cluster-relation-created', relationId: 2, endpoint: 'cluster', remoteApp: 'wp' },
      next: (p) => ({ ...p, relations: { '2': { endpoint: 'cluster', remoteApp: 'wp', peer: true, created: true, inScope: false, members: {}, appVersion: 0, broken: false } } }),
    },
    {
      name: 'relation-joined records the unit with its -changed still owed',
      prev: started(),
      hook: dbHook('joined', { remoteUnit: 'mysql/2' }),
      next: (p) => withRel(p, { members: { 'mysql/0': 2, 'mysql/1': -1, 'mysql/2': -1 } }),
    },
    {
      name: 'relation-changed for a unit records the version delivered',
      prev: started(),
      hook: dbHook('changed', { remoteUnit: 'mysql/1', version: 5 }),
      next: (p) => withRel(p, { members: { 'mysql/0': 2, 'mysql/1': 5 } }),
    },
    {
      name: 'relation-changed for the application records the app bag version',
      prev: started(),
      hook: dbHook('changed', { version: 7 }),
      next: (p) => withRel(p, { appVersion: 7 }),
    },
    {
      name: 'relation-departed forgets the unit',
      prev: started(),
      hook: dbHook('departed', { remoteUnit: 'mysql/0', departingUnit: 'mysql/0' }),
      next: (p) => withRel(p, { members: { 'mysql/1': -1 } }),
    },
    {
      name: 'relation-broken marks the relation broken and keeps it until it is forgotten',
      prev: started(),
      hook: dbHook('broken'),
      next: (p) => withRel(p, { broken: true }),
    },
    {
      name: 'a hook for a relation not in local state changes nothing',
      prev: started(),
      hook: { name: 'cache-relation-changed', relationId: 9, endpoint: 'cache', remoteApp: 'redis', remoteUnit: 'redis/0', version: 1 },
      next: (p) => p,
    },
    {
      name: "the writer's own peer app-bag write counts as seen",
      prev: started(),
      hook: { name: 'config-changed' },
      c: { ownAppVersions: { '2': 9 } },
      next: (p) => ({ ...withRel(p, { appVersion: 9 }, '2'), configHash: 'config-2' }),
    },
    {
      name: 'an own write older than what was already seen does not move the version back',
      prev: started(),
      hook: { name: 'update-status' },
      c: { ownAppVersions: { '2': 2 } },
      next: (p) => ({ ...p, nextUpdateStatus: NOW + DELAY }),
    },
    {
      name: "an own write to a regular relation's app bag is not the remote bag",
      prev: started(),
      hook: { name: 'update-status' },
      c: { ownAppVersions: { '1': 9, '9': 9 } },
      next: (p) => ({ ...p, nextUpdateStatus: NOW + DELAY }),
    },
    {
      name: 'a peer app-bag write in the hook that creates the peer relation counts as seen',
      prev: started({ relations: {} }),
      hook: { name: 'cluster-relation-created', relationId: 2, endpoint: 'cluster', remoteApp: 'wp' },
      c: { ownAppVersions: { '2': 1 } },
      next: (p) => ({ ...p, relations: { '2': { endpoint: 'cluster', remoteApp: 'wp', peer: true, created: true, inScope: false, members: {}, appVersion: 1, broken: false } } }),
    },
  ];

  it.each(cases)('$name', ({ prev, hook, c, next }) => {
    const before = structuredClone(prev);
    expect(commitHook(prev, hook, ctx(c))).toEqual(next(before));
    expect(prev, 'the previous state is left untouched').toEqual(before);
  });

  it('clears the failure and retry bookkeeping of the hook it commits', () => {
    const hook = dbHook('changed', { remoteUnit: 'mysql/1', version: 5 });
    const prev = started({ running: hook, failed: hook, retries: 3, nextRetryAt: NOW + 40_000 });
    const next = commitHook(prev, hook, ctx());
    expect(next.running).toBeUndefined();
    expect(next.failed).toBeUndefined();
    expect(next).toMatchObject({ retries: 0, nextRetryAt: 0 });
    expect(next.relations['1']?.members['mysql/1']).toBe(5);
  });

  it('consumes the queued hook only when that is the hook committed', () => {
    const prev = started({ started: false, queued: { name: 'start' } });
    expect(commitHook(prev, { name: 'leader-elected' }, ctx()).queued).toEqual({ name: 'start' });
    expect(commitHook(prev, { name: 'start' }, ctx()).queued).toBeUndefined();
  });

  it('is deterministic: the same inputs give the same state', () => {
    const prev = started({ started: false });
    const hook: HookInfo = { name: 'config-changed' };
    expect(commitHook(prev, hook, ctx({ ownAppVersions: { '2': 8 } }))).toEqual(commitHook(prev, hook, ctx({ ownAppVersions: { '2': 8 } })));
  });
});

function withRel(s: LocalState, patch: Partial<LocalRelation>, id = '1'): LocalState {
  const l = s.relations[id];
  if (!l) throw new Error(`no relation ${id}`);
  return { ...s, relations: { ...s.relations, [id]: { ...l, ...patch } } };
}

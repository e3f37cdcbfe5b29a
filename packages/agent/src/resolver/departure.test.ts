import type { RelationView, UnitView } from '@sigil/api';
import { describe, expect, it } from 'vitest';
import { nextOp } from './resolver.ts';
import { initialState, type LocalState } from './state.ts';

// Two rules found by the resolver table tests: the -changed owed after a -joined is never
// dropped, and JUJU_DEPARTING_UNIT names this unit only when this unit is going away.

const rel = (over: Partial<RelationView>): RelationView => ({
  id: 1, life: 'alive', endpoint: 'db', interface: 'mysql', role: 'requirer', scope: 'global', remoteApp: 'mysql',
  inScope: true, members: {}, remoteAppVersion: 0, unitData: {}, appData: {}, ...over,
});

const view = (relations: RelationView[], life = 'alive'): UnitView => ({
  name: 'wp/0', app: 'wp', life, principal: null, subordinates: [], charmUrl: 'local:wp-0', charmHash: 'h', config: {},
  leader: true, leaderSettings: {}, leaderSettingsVersion: 0, resolved: '', relations, operations: [],
  workload: { status: 'active', message: '', byCharm: true }, appStatus: { status: 'active', message: '' }, appUnitStatuses: {},
  agentStatus: 'idle', ports: [], state: {},
});

const settled = (members: Record<string, number>): LocalState => ({
  ...initialState(), installed: true, started: true, leader: true, leaderSettingsVersion: 0, charmHash: 'h', configHash: 'c', nextUpdateStatus: Number.MAX_SAFE_INTEGER,
  relations: { '1': { endpoint: 'db', remoteApp: 'mysql', peer: false, created: true, inScope: true, members, appVersion: 0, broken: false } },
});

const next = (local: LocalState, u: UnitView) => nextOp(local, { unit: u, configHash: 'c', retryHooks: true }, 0);

describe('relation departure', () => {
  it('runs the -changed owed after -joined before departing, even when the relation is dying', () => {
    const op = next(settled({ 'mysql/0': -1 }), view([rel({ life: 'dying', members: { 'mysql/0': 3 } })]));
    expect(op).toMatchObject({ type: 'run-hook', hook: { name: 'db-relation-changed', remoteUnit: 'mysql/0', version: 3 } });
  });

  it('runs the owed -changed even when the remote unit already left', () => {
    const op = next(settled({ 'mysql/0': -1 }), view([rel({ members: {} })]));
    expect(op).toMatchObject({ type: 'run-hook', hook: { name: 'db-relation-changed', remoteUnit: 'mysql/0' } });
  });

  it('names the remote unit as departing when the relation is removed', () => {
    const op = next(settled({ 'mysql/0': 1, 'mysql/1': 1 }), view([rel({ life: 'dying', members: { 'mysql/0': 1, 'mysql/1': 1 } })]));
    expect(op).toMatchObject({ type: 'run-hook', hook: { name: 'db-relation-departed', remoteUnit: 'mysql/0', departingUnit: 'mysql/0' } });
  });

  it('names this unit as departing when this unit is dying, even for a remote unit already gone', () => {
    const op = next(settled({ 'mysql/0': 1 }), view([rel({ members: {} })], 'dying'));
    expect(op).toMatchObject({ type: 'run-hook', hook: { name: 'db-relation-departed', remoteUnit: 'mysql/0', departingUnit: 'wp/0' } });
  });
});

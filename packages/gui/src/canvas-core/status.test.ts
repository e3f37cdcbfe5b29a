import { describe, expect, it } from 'vitest';
import type { GuiApp, GuiMachine, GuiModel, GuiRelation, GuiUnit } from '@sigil/api';
import { appStatus, relationInError, reuseSummaries, summarize, unitView } from './status.ts';

const machine = (up = true): GuiMachine => ({ id: '0', address: '127.0.0.2', up, status: { current: 'running', message: '' } });
const unit = (name: string, workload: string, agent = 'idle', message = ''): GuiUnit => ({
  name, app: name.split('/')[0]!, machine: '0', principal: null, life: 'alive',
  workload: { current: workload, message }, agent: { current: agent, message: agent === 'error' ? 'hook failed: "install"' : '' }, ports: [], published: [],
});
const app = (name: string, status: GuiApp['status'] = null): GuiApp => ({ name, charmUrl: 'local:c-0', exposed: false, scale: 1, life: 'alive', annotations: {}, status, leader: null });

describe('unitView (as `sigil status` shows a unit)', () => {
  it('shows a failed hook as the workload error with the hook in the message, agent idle', () => {
    expect(unitView(unit('a/0', 'active', 'error'), machine())).toEqual({
      workload: { current: 'error', message: 'hook failed: "install"' },
      agent: { current: 'idle', message: '' },
    });
  });
  it('shows units on a machine whose agent is away as lost', () => {
    const v = unitView(unit('a/0', 'active'), machine(false));
    expect(v.agent.current).toBe('lost');
    expect(v.workload).toEqual({ current: 'unknown', message: "agent lost, see 'sigil debug-log --include a/0'" });
  });
  it('does not call a unit still allocating lost', () => {
    expect(unitView(unit('a/0', 'waiting', 'allocating'), machine(false)).agent.current).toBe('allocating');
  });
});

describe('appStatus (as Juju derives application status)', () => {
  const v = (w: string) => ({ workload: { current: w, message: w }, agent: { current: 'idle', message: '' } });
  it.each([
    [['active', 'blocked'], 'blocked'],
    [['active', 'maintenance', 'waiting'], 'maintenance'],
    [['waiting', 'active'], 'waiting'],
    [['active', 'error', 'blocked'], 'error'],
    [['active', 'unknown'], 'active'],
  ])('the most severe of %j is %s', (ws, want) => {
    expect(appStatus(app('a'), ws.map(v)).current).toBe(want);
  });
  it('prefers what the leader set, unless a unit is in error', () => {
    const set = { current: 'blocked', message: 'need a database' };
    expect(appStatus(app('a', set), [v('active')])).toEqual(set);
    expect(appStatus(app('a', set), [v('active'), v('error')]).current).toBe('error');
  });
  it('says unknown, waiting for units, when there are none', () => {
    expect(appStatus(app('a'), [])).toEqual({ current: 'unknown', message: 'waiting for units' });
  });
});

describe('summarize and relation colour', () => {
  const rel: GuiRelation = { id: 1, key: 'b:in a:out', life: 'alive', endpoints: [
    { app: 'a', name: 'out', role: 'provider', interface: 'x', scope: 'global' },
    { app: 'b', name: 'in', role: 'requirer', interface: 'x', scope: 'global' },
  ] };
  const model = (bAgent: string): GuiModel => ({
    name: 'm', apps: { a: app('a'), b: app('b'), c: app('c') }, relations: { 1: rel }, charms: {}, machines: { 0: machine() },
    units: { 'a/0': unit('a/0', 'active'), 'b/0': unit('b/0', 'active'), 'b/1': unit('b/1', 'active', bAgent) },
  });
  it('counts units and errors per application', () => {
    const s = summarize(model('error'));
    expect(s.get('b')).toEqual({ status: { current: 'error', message: 'hook failed: "install"' }, units: 2, errors: 1 });
    expect(s.get('c')).toEqual({ status: { current: 'unknown', message: 'waiting for units' }, units: 0, errors: 0 });
  });
  it('draws a relation red when either side has a unit in error, and only then', () => {
    expect(relationInError(rel, summarize(model('error')))).toBe(true);
    expect(relationInError(rel, summarize(model('idle')))).toBe(false);
  });
});

describe('reuseSummaries', () => {
  const s = (current: string, units = 1) => ({ status: { current, message: '' }, units, errors: 0 });
  it('keeps the previous map when nothing changed, and unchanged entries otherwise', () => {
    const prev = new Map([['a', s('active')], ['b', s('active')]]);
    expect(reuseSummaries(prev, new Map([['a', s('active')], ['b', s('active')]]))).toBe(prev);
    const next = reuseSummaries(prev, new Map([['a', s('active')], ['b', s('error')]]));
    expect(next).not.toBe(prev);
    expect(next.get('a')).toBe(prev.get('a'));
    expect(next.get('b')?.status.current).toBe('error');
    expect(reuseSummaries(prev, new Map([['a', s('active')]]))).not.toBe(prev);
  });
});

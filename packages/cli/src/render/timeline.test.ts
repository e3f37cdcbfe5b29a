import { describe, expect, it } from 'vitest';
import type { StatusHistoryEntry } from '@sigil/api';
import { buildTimeline, renderTimeline, timelineDoc } from './timeline.ts';

const e = (type: StatusHistoryEntry['type'], status: string, message: string, since: number): StatusHistoryEntry => ({ type, status, message, data: {}, since });
const T = 1_800_000_000_000;

const machines = new Map([['1', [e('machine', 'pending', '', T), e('machine', 'allocating', 'creating machine', T + 100), e('machine', 'running', 'running', T + 1300), e('machine', 'started', '', T + 2000)]]]);
const units = new Map([['memcached/0', [
  e('juju-unit', 'allocating', '', T + 50),
  e('workload', 'waiting', 'agent initialising', T + 50),
  e('juju-unit', 'executing', 'running install hook', T + 2100),
  e('workload', 'maintenance', 'installing memcached', T + 2150),
  e('juju-unit', 'executing', 'running start hook', T + 6100),
  e('juju-unit', 'idle', '', T + 6400),
  e('workload', 'active', '', T + 6390),
]]]);

describe('status --timeline', () => {
  it('puts machine steps, hooks with durations, workload statuses and settled in time order', () => {
    const t = buildTimeline([{ name: 'memcached/0', machine: '1' }], machines, units);
    expect(t.origin).toBe(T);
    expect(t.steps.map((s) => [s.step, s.start - T, s.duration])).toEqual([
      ['machine 1 added', 0, 100],
      ['workload waiting: agent initialising', 50, undefined],
      ['machine 1 creating machine', 100, 1200],
      ['machine 1 booting', 1300, 700],
      ['machine 1 agent connected', 2000, undefined],
      ['hook install', 2100, 4000],
      ['workload maintenance: installing memcached', 2150, undefined],
      ['hook start', 6100, 300],
      ['workload active', 6390, undefined],
      ['settled', 6400, undefined],
    ]);
  });

  it('leaves a hook still running without a duration and the unit unsettled', () => {
    const busy = new Map([['a/0', [e('juju-unit', 'executing', 'running install hook', T)]]]);
    const t = buildTimeline([{ name: 'a/0' }], new Map(), busy);
    expect(t.steps).toEqual([{ unit: 'a/0', kind: 'hook', step: 'hook install', start: T }]);
  });

  it('renders offsets, durations and the slowest steps; JSON carries seconds', () => {
    const t = buildTimeline([{ name: 'memcached/0', machine: '1' }], machines, units);
    const text = renderTimeline(t);
    expect(text).toMatch(/^memcached\/0 +\+0\.00s +0\.10s +machine 1 added$/m);
    expect(text).toMatch(/^ +\+2\.10s +4\.00s +hook install$/m);
    expect(text).toMatch(/Slowest steps:\n +Took +Unit +Step\n4\.00s +memcached\/0 +hook install\n/);
    expect(text).toContain('All units settled at +6.40s.');
    const doc = timelineDoc(t) as { units: Record<string, { step: string; at: number; took?: number }[]> };
    expect(doc.units['memcached/0']!.find((s) => s.step === 'hook install')).toEqual({ step: 'hook install', kind: 'hook', at: 2.1, took: 4 });
    expect(renderTimeline({ origin: 0, steps: [] })).toMatch(/No units/);
  });
});

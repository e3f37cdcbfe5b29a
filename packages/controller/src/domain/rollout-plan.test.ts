// The roll-out decider, state in → step out: every phase's move, the waits, and each way
// a roll-out halts; plus batch planning (leader last) and the input checks.
import { describe, expect, it } from 'vitest';
import type { RolloutDoc } from '@sigil/api';
import { checkGateCommand, checkGateUrl, parseBatchSpec, planBatches } from '@sigil/core';
import { decideRollout, rollbackOf, type RolloutFacts } from './rollout-plan.ts';

const T0 = 1_000_000;
const doc = (patch: Partial<RolloutDoc> = {}): RolloutDoc => ({
  id: 1, app: 'web', status: 'running', direction: 'forward', phase: 'drain', from: 'local:web-0', to: 'local:web-1',
  batches: [['web/1', 'web/2'], ['web/0']], batch: 0,
  units: { 'web/0': 'pending', 'web/1': 'pending', 'web/2': 'pending' }, drained: [], gate: {}, pauseMs: 0, haltOnError: false,
  batchTimeoutMs: 60_000, message: '', startedBy: 'admin', started: T0, updated: T0, batchMs: [], phaseSince: T0, batchStarted: T0, gateRun: 0, ...patch,
});
const facts = (patch: Partial<RolloutFacts> = {}): RolloutFacts => ({
  now: T0 + 1000, balanced: true, balancersSettled: true, errors: [], busy: [], gate: { state: 'unknown', message: '' }, ...patch,
});

describe('planBatches', () => {
  it.each([
    [['a/0', 'a/1', 'a/2', 'a/3'], 'a/0', '1', [['a/1'], ['a/2'], ['a/3'], ['a/0']]],
    [['a/0', 'a/1', 'a/2', 'a/3'], 'a/1', '2', [['a/0', 'a/2'], ['a/3', 'a/1']]],
    [['a/0', 'a/1', 'a/2', 'a/3', 'a/10'], 'a/2', '25%', [['a/0', 'a/1'], ['a/3', 'a/10'], ['a/2']]],
    [['a/0', 'a/1'], null, '100%', [['a/0', 'a/1']]],
    [['a/0'], 'a/0', '5', [['a/0']]],
  ])('%j, leader %s, batch %s', (units, leader, spec, want) => {
    expect(planBatches(units, leader, parseBatchSpec(spec))).toEqual(want);
  });

  it.each(['0', '-1', 'x', '0%', '101%', '2.5', '', '25 %'])('refuses batch %j with a hint', (spec) => {
    expect(() => parseBatchSpec(spec)).toThrow(expect.objectContaining({ code: 'bad-request', hint: expect.stringContaining('--batch 25%') }));
  });

  it('checks gates', () => {
    expect(() => checkGateCommand('  ')).toThrow(/empty/);
    expect(() => checkGateUrl('ftp://x/')).toThrow(/not http/);
    expect(() => checkGateUrl('http://{addr}/')).toThrow(/placeholder/);
    expect(() => checkGateUrl('http://u:p@{address}/')).toThrow(/credentials/);
    expect(() => checkGateUrl('http://{address}:8080/health')).not.toThrow();
  });
});

describe('decideRollout, forward', () => {
  it('drains the batch when the application has load balancers, else goes straight to the upgrade', () => {
    const s = decideRollout(doc(), facts())!;
    expect(s.doc).toMatchObject({ phase: 'drain-wait', drained: ['web/1', 'web/2'], units: { 'web/1': 'draining', 'web/2': 'draining', 'web/0': 'pending' } });
    expect(s.effects).toEqual([{ kind: 'set-drained', units: ['web/1', 'web/2'] }]);
    expect(decideRollout(doc(), facts({ balanced: false }))!.doc.phase).toBe('upgrade');
  });

  it('waits for the balancers, then pins the batch to the new charm', () => {
    expect(decideRollout(doc({ phase: 'drain-wait' }), facts({ balancersSettled: false }))!.doc).toMatchObject({ phase: 'drain-wait', message: expect.stringMatching(/drain/) });
    expect(decideRollout(doc({ phase: 'drain-wait' }), facts())!.doc.phase).toBe('upgrade');
    const s = decideRollout(doc({ phase: 'upgrade' }), facts())!;
    expect(s.effects).toEqual([{ kind: 'pin', units: ['web/1', 'web/2'], url: 'local:web-1' }]);
    expect(s.doc.units['web/1']).toBe('upgrading');
  });

  it('waits while the batch is busy, halts on its timeout', () => {
    const busy = facts({ busy: [{ unit: 'web/1', reason: 'running upgrade-charm hook' }] });
    expect(decideRollout(doc({ phase: 'upgrade-wait' }), busy)!.doc.status).toBe('running');
    const late = decideRollout(doc({ phase: 'upgrade-wait' }), { ...busy, now: T0 + 61_000 })!;
    expect(late.doc).toMatchObject({ status: 'halted', message: expect.stringMatching(/did not settle within 1m.*web\/1/) });
    expect(late.effects).toContainEqual(expect.objectContaining({ kind: 'notify', event: 'refresh-halted' }));
    expect(decideRollout(doc({ phase: 'upgrade-wait' }), facts())!.doc.phase).toBe('gate');
  });

  it('a unit in error waits for resolve, or halts with --halt-on-error', () => {
    const err = facts({ errors: [{ unit: 'web/2', message: 'hook failed: "upgrade-charm"' }] });
    expect(decideRollout(doc({ phase: 'upgrade-wait' }), err)!.doc).toMatchObject({ status: 'running', message: expect.stringMatching(/sigil resolve/) });
    expect(decideRollout(doc({ phase: 'upgrade-wait', haltOnError: true }), err)!.doc).toMatchObject({ status: 'halted', units: { 'web/2': 'halted' }, message: expect.stringMatching(/upgrade-charm/) });
  });

  it('runs the gate under a new run number; a failed gate halts with its message; a lost run runs again', () => {
    const g = doc({ phase: 'gate', gate: { command: 'true' }, gateRun: 3 });
    const s = decideRollout(g, facts())!;
    expect(s.effects).toEqual([{ kind: 'run-gate', units: ['web/1', 'web/2'], run: 4 }]);
    expect(s.doc).toMatchObject({ phase: 'gate-wait', gateRun: 4 });
    expect(decideRollout({ ...s.doc }, facts({ gate: { state: 'failed', message: 'web/1: exit status 1' } }))!.doc)
      .toMatchObject({ status: 'halted', message: 'gate failed on batch 1/2: web/1: exit status 1', units: { 'web/1': 'halted' } });
    expect(decideRollout({ ...s.doc }, facts({ gate: { state: 'running', message: 'x' } }))!.doc.status).toBe('running');
    expect(decideRollout({ ...s.doc }, facts())!.doc.phase).toBe('gate');
    expect(decideRollout({ ...s.doc }, facts({ gate: { state: 'passed', message: '' } }))!.doc.phase).toBe('undrain');
    expect(decideRollout(doc({ phase: 'gate' }), facts())!.doc.phase).toBe('undrain');
  });

  it('puts the batch back, then pauses before the next; the last batch completes', () => {
    const u = decideRollout(doc({ phase: 'undrain', drained: ['web/1', 'web/2'] }), facts())!;
    expect(u.effects).toEqual([{ kind: 'set-drained', units: [] }]);
    expect(decideRollout(doc({ phase: 'undrain-wait' }), facts({ balancersSettled: false }))!.doc.phase).toBe('undrain-wait');
    const next = decideRollout(doc({ phase: 'undrain-wait', pauseMs: 5000 }), facts())!;
    expect(next.doc).toMatchObject({ phase: 'pause', batch: 1, units: { 'web/1': 'done', 'web/2': 'done' }, batchMs: [1000] });
    expect(decideRollout(next.doc, facts({ now: T0 + 3000 }))!.doc.phase).toBe('pause');
    expect(decideRollout(next.doc, facts({ now: T0 + 7000 }))!.doc.phase).toBe('drain');
    const last = decideRollout(doc({ phase: 'undrain-wait', batch: 1 }), facts())!;
    expect(last.doc).toMatchObject({ status: 'done', phase: 'finish' });
    expect(last.effects.map((e) => e.kind)).toEqual(['complete', 'notify']);
  });

  it('does nothing for a halted or finished roll-out', () => {
    expect(decideRollout(doc({ status: 'halted' }), facts())).toBeUndefined();
    expect(decideRollout(doc({ status: 'done' }), facts())).toBeUndefined();
  });
});

describe('rollback', () => {
  it('reverts the batches that moved, newest first, and ends restored', () => {
    const halted = doc({ status: 'halted', batch: 1, phase: 'gate-wait', units: { 'web/1': 'done', 'web/2': 'done', 'web/0': 'halted' } });
    const back = rollbackOf(halted, T0);
    expect(back).toMatchObject({ direction: 'back', status: 'running', phase: 'drain', batch: 0, batches: [['web/0'], ['web/1', 'web/2']] });
    const pin = decideRollout({ ...back, phase: 'upgrade' }, facts({ errors: [{ unit: 'web/0', message: 'hook failed' }] }))!;
    expect(pin.effects).toEqual([{ kind: 'resolve', units: ['web/0'] }, { kind: 'pin', units: ['web/0'], url: 'local:web-0' }]);
    expect(decideRollout({ ...back, phase: 'upgrade-wait' }, facts())!.doc.phase).toBe('undrain');
    const end = decideRollout({ ...back, batch: 1, phase: 'undrain-wait' }, facts())!;
    expect(end.doc).toMatchObject({ status: 'rolled-back', units: { 'web/1': 'reverted', 'web/2': 'reverted' } });
    expect(end.effects.map((e) => e.kind)).toEqual(['restore', 'notify']);
  });

  it('has nothing to revert before any unit moved', () => {
    expect(rollbackOf(doc({ status: 'halted' }), T0).batches).toEqual([]);
  });
});

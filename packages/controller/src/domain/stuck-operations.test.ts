import { describe, expect, it } from 'vitest';
import { stuckReason, type OperationFacts } from './stuck-operations.ts';

const NOW = 1_000_000;
const op = (o: Partial<OperationFacts>): OperationFacts => ({ id: 1, unit: 'a/0', kind: 'action', status: 'running', started: NOW - 10_000, timeoutMs: undefined, unitLife: 'alive', machine: '0', agentAwayMs: 0, ...o });

describe('stuckReason', () => {
  it.each<[string, Partial<OperationFacts>, RegExp | undefined]>([
    ['a running action with its agent connected can finish', {}, undefined],
    ['a long action is not timed out (actions have no timeout)', { started: NOW - 3_600_000 }, undefined],
    ['a pending action waits for its agent however long it is away', { status: 'pending', started: undefined, agentAwayMs: 3_600_000 }, undefined],
    ['an agent away briefly (a restart) is waited for', { agentAwayMs: 89_999 }, undefined],
    ['an agent away past the limit fails what it was running', { agentAwayMs: 90_000 }, /^the agent of machine 0 lost contact while the operation ran \(away 1m30s\); it was not retried/],
    ['a removed unit fails its operations', { unitLife: undefined }, /^unit a\/0 was removed before the operation finished$/],
    ['a dead unit fails its pending operations', { status: 'pending', unitLife: 'dead' }, /^unit a\/0 died before the operation ran$/],
    ['a command within timeout and grace can finish', { kind: 'exec', timeoutMs: 300_000, started: NOW - 359_000 }, undefined],
    ['a command past timeout and grace fails', { kind: 'exec', timeoutMs: 300_000, started: NOW - 361_000 }, /^no result 6m1s after the command started \(its timeout was 5m\)/],
  ])('%s', (_name, facts, expected) => {
    const r = stuckReason(op(facts), NOW);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(expected);
  });
});

/**
 * is-leader, leader-get and leader-set. Juju writes leader settings at once; Sigil
 * buffers them with the hook's other changes, and leader-get shows the hook its own
 * writes, which is what Juju's re-read after a write returns.
 */
import { checkEmpty, usageError } from './args.ts';
import { goQuote } from './govalue.ts';
import { type ToolSpec, leads, overlay, parseKeyValues, putKey, toolError } from './spec.ts';

export const isLeader: ToolSpec = {
  name: 'is-leader',
  args: '',
  purpose: 'print application leadership status',
  output: true,
  flags: () => [],
  run(call) {
    checkEmpty(call.args);
    // Never True while the lease is not vouched for: a partitioned leader may be replaced.
    return leads(call.env);
  },
};

export const leaderGet: ToolSpec = {
  name: 'leader-get',
  args: '[<key>]',
  purpose: 'print application leadership settings',
  output: true,
  flags: () => [],
  run(call) {
    const [first, ...rest] = call.args;
    let key = first ?? '';
    if (key === '-') key = '';
    else if (key.includes('=')) throw usageError(`invalid key ${goQuote(key)}`);
    if (first !== undefined) checkEmpty(rest);
    const settings = overlay(call.env.snapshot.leaderSettings, call.env.changes.leaderSettings);
    if (key === '') return settings;
    return Object.hasOwn(settings, key) ? (settings[key] ?? null) : null;
  },
};

export const leaderSet: ToolSpec = {
  name: 'leader-set',
  args: '<key>=<value> [...]',
  purpose: 'write application leadership settings',
  output: false,
  flags: () => [],
  run(call) {
    const settings = parseKeyValues(call.args, true);
    if (!leads(call.env)) {
      throw toolError('cannot write leadership settings: cannot write settings: not the leader');
    }
    for (const [k, v] of settings) putKey(call.env.changes.leaderSettings, k, v === '' ? null : v);
    return undefined;
  },
};

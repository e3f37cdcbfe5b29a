/** state-get, state-set and state-delete: the unit's server-side key-value store. */
import { checkEmpty } from './args.ts';
import { goQuote } from './govalue.ts';
import { NEED_STDIN, type ToolSpec, overlay, parseKeyValues, parseSettingsYaml, putKey, readInputFile, toolError } from './spec.ts';

export const MAX_STATE_KEY_BYTES = 256;
export const MAX_STATE_VALUE_BYTES = 64 * 1024;

export const stateGet: ToolSpec = {
  name: 'state-get',
  args: '[<key>]',
  purpose: 'print server-side-state value',
  output: true,
  flags: () => [{ names: ['strict'], kind: 'bool', help: 'Return an error if the requested key does not exist' }],
  run(call) {
    const [first, ...rest] = call.args;
    const key = first === undefined || first === '-' ? '' : first;
    checkEmpty(rest);
    const state = overlay(call.env.snapshot.unitState, call.env.changes.unitState);
    if (key === '') return state;
    if (Object.hasOwn(state, key)) return state[key] ?? '';
    if (call.parsed.bools.get('strict') === true) throw toolError(`${goQuote(key)} not found`);
    return '';
  },
};

export const stateSet: ToolSpec = {
  name: 'state-set',
  args: 'key=value [key=value ...]',
  purpose: 'set server-side-state values',
  output: false,
  flags: () => [{ names: ['file'], kind: 'string', help: 'file containing key-value pairs' }],
  run(call) {
    let values = parseKeyValues(call.args, true);
    const file = call.parsed.strings.get('file');
    if (file !== undefined) {
      const text = readInputFile(call, file);
      if (text === undefined) return NEED_STDIN;
      const fromFile = parseSettingsYaml(text);
      for (const [k, v] of values) fromFile.set(k, v);
      values = fromFile;
    }
    for (const [k, v] of values) {
      if (Buffer.byteLength(k) > MAX_STATE_KEY_BYTES) {
        throw toolError(`max allowed key length (${MAX_STATE_KEY_BYTES}) exceeded`);
      }
      if (Buffer.byteLength(v) > MAX_STATE_VALUE_BYTES) {
        throw toolError(`max allowed value length (${MAX_STATE_VALUE_BYTES}) exceeded`);
      }
    }
    for (const [k, v] of values) putKey(call.env.changes.unitState, k, v);
    return undefined;
  },
};

export const stateDelete: ToolSpec = {
  name: 'state-delete',
  args: '<key>',
  purpose: 'delete server-side-state key value pair',
  output: false,
  flags: () => [],
  run(call) {
    const [key, ...rest] = call.args;
    if (key === undefined) return undefined;
    checkEmpty(rest);
    if (key !== '') putKey(call.env.changes.unitState, key, null);
    return undefined;
  },
};

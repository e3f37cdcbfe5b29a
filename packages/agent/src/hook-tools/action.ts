/** action-get, action-set, action-log and action-fail. They work only inside an action. */
import { checkEmpty, usageError } from './args.ts';
import { type GoValue, fromJson, goQuote } from './govalue.ts';
import { type ToolSpec, notRunningAction, putKey } from './spec.ts';

const KEY_RULE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const RESERVED_KEYS = ['stdout', 'stdout-encoding', 'stderr', 'stderr-encoding'];

/** Juju's recurseMapOnKeys: follows dotted keys through nested maps. */
function lookup(keys: readonly string[], params: GoValue): GoValue {
  let current: GoValue = params;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || current instanceof Map) return null;
    const map = current as Readonly<Record<string, GoValue>>;
    if (!Object.hasOwn(map, key)) return null;
    current = map[key] ?? null;
  }
  return current;
}

export const actionGet: ToolSpec = {
  name: 'action-get',
  args: '[<key>[.<key>.<key>...]]',
  purpose: 'get action parameters',
  output: true,
  flags: () => [],
  run(call) {
    const [path, ...rest] = call.args;
    if (path !== undefined) checkEmpty(rest);
    const action = call.env.snapshot.action;
    if (action === undefined) throw notRunningAction();
    const params = fromJson(action.params);
    return path === undefined ? params : lookup(path.split('.'), params);
  },
};

export const actionSet: ToolSpec = {
  name: 'action-set',
  args: '<key>=<value> [<key>=<value> ...]',
  purpose: 'set action results',
  output: false,
  flags: () => [],
  run(call) {
    const pairs: [string[], string][] = [];
    for (const arg of call.args) {
      const eq = arg.indexOf('=');
      if (eq < 0) throw usageError(`argument ${goQuote(arg)} must be of the form key...=value`);
      const keys = arg.slice(0, eq).split('.');
      for (const key of keys) {
        if (!KEY_RULE.test(key)) {
          throw usageError(
            `key ${goQuote(key)} must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`,
          );
        }
        if (RESERVED_KEYS.includes(key)) throw usageError(`cannot set reserved action key ${goQuote(key)}`);
      }
      pairs.push([keys, arg.slice(eq + 1)]);
    }
    if (call.env.snapshot.action === undefined) throw notRunningAction();
    for (const [keys, value] of pairs) addValue(call.env.changes.actionResults, keys, value);
    return undefined;
  },
};

/** Juju's addValueToMap: creates intermediate maps, replacing non-map values on the way. */
function addValue(target: Record<string, unknown>, keys: readonly string[], value: string): void {
  let next = target;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      putKey(next, key, value);
      return;
    }
    const existing = Object.hasOwn(next, key) ? next[key] : undefined;
    if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
      next = existing as Record<string, unknown>;
    } else {
      const child: Record<string, unknown> = {};
      putKey(next, key, child);
      next = child;
    }
  });
}

export const actionLog: ToolSpec = {
  name: 'action-log',
  args: '<message>',
  purpose: 'record a progress message for the current action',
  output: false,
  flags: () => [],
  run(call) {
    if (call.args.length === 0) throw usageError('no message specified');
    if (call.env.snapshot.action === undefined) throw notRunningAction();
    call.env.actionLog(call.args.join(' '));
    return undefined;
  },
};

export const actionFail: ToolSpec = {
  name: 'action-fail',
  args: '["<failure message>"]',
  purpose: 'set action fail status with message',
  output: false,
  flags: () => [],
  run(call) {
    const [message = 'action failed without reason given, check action for errors', ...rest] = call.args;
    checkEmpty(rest);
    if (call.env.snapshot.action === undefined) throw notRunningAction();
    call.env.changes.actionFailed = message;
    return undefined;
  },
};

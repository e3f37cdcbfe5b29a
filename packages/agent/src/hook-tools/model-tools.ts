/**
 * goal-state, relation-model-get, credential-get, juju-reboot and add-metric, as
 * juju/juju@3.6 worker/uniter/runner/jujuc declares them (names, flags, errors, output).
 *
 * - goal-state asks the controller (through the env): Juju's uniter facade computes it
 *   from every unit of the application and of the related applications, which the
 *   agent's view does not hold.
 * - credential-get fails as it does on a machine cloud for an application that was not
 *   granted `trust`: Sigil has no cloud credential to hand out, and no `trust` command.
 * - juju-reboot records the request; the uniter acts on it once the hook succeeded, or at
 *   once with `--now` (the hook is killed and runs again after the reboot).
 * - add-metric works only in collect-metrics, against the charm's metrics.yaml.
 */
import { checkEmpty, usageError } from './args.ts';
import type { GoalStateView, MetricValue } from './context.ts';
import { type GoValue, goQuote } from './govalue.ts';
import { type ToolSpec, parseKeyValues, putKey, relationFlag, selectedRelation, toolError } from './spec.ts';

export const goalState: ToolSpec = {
  name: 'goal-state',
  args: '',
  purpose: "Print the status of the charm's peers and related units.",
  output: true,
  formats: { default: 'yaml', allowed: ['yaml', 'json'] },
  flags: () => [],
  run(call) {
    checkEmpty(call.args);
    const fetch = call.env.goalState;
    if (fetch === undefined) throw toolError('goal state is not available in this context');
    return fetch().then(formatGoalState);
  },
};

/** Juju's formattedGoalState: a struct (units, then relations) of maps; `since` omitted when empty. */
export function formatGoalState(gs: GoalStateView): GoValue {
  const units = (m: GoalStateView['units']): GoValue => {
    const out: Record<string, GoValue> = {};
    for (const [name, s] of Object.entries(m)) {
      const entry = new Map<string, GoValue>([['status', s.status]]);
      if (s.since !== undefined) entry.set('since', formatSince(s.since));
      putKey(out, name, entry);
    }
    return out;
  };
  const relations: Record<string, GoValue> = {};
  for (const [endpoint, m] of Object.entries(gs.relations)) putKey(relations, endpoint, units(m));
  return new Map<string, GoValue>([
    ['units', units(gs.units)],
    ['relations', relations],
  ]);
}

/** common.FormatTime(t, true): RFC 3339 in UTC with a space for the `T`, whole seconds. */
export function formatSince(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export const relationModelGet: ToolSpec = {
  name: 'relation-model-get',
  args: '',
  purpose: 'Get details about the model hosing a related application.',
  output: true,
  flags: (env) => [relationFlag(env)],
  run(call) {
    const rel = selectedRelation(call);
    if (rel === undefined) throw usageError('no relation id specified');
    checkEmpty(call.args);
    // Every relation is within the unit's own model (offers across models are not here yet).
    return new Map<string, GoValue>([['uuid', call.env.snapshot.modelUuid]]);
  },
};

export const credentialGet: ToolSpec = {
  name: 'credential-get',
  args: '',
  purpose: 'access cloud credentials',
  output: true,
  flags: () => [],
  run(call) {
    checkEmpty(call.args);
    throw toolError('cannot access cloud credentials: permission denied', 'Sigil has no cloud credential to give a charm (Juju gives one only to a trusted application on a cloud that has one)');
  },
};

export const jujuReboot: ToolSpec = {
  name: 'juju-reboot',
  args: '',
  purpose: 'Reboot the host machine',
  output: false,
  flags: () => [{ names: ['now'], kind: 'bool', help: 'reboot immediately, killing the invoking process', default: 'false' }],
  run(call) {
    checkEmpty(call.args);
    if (call.env.snapshot.action !== undefined) throw toolError('juju-reboot is not supported when running an action.');
    const now = call.parsed.bools.get('now') === true;
    // RebootNow outranks RebootAfterHook (Juju keeps the highest priority asked for).
    if (now || call.env.changes.reboot === undefined) call.env.changes.reboot = now ? 'now' : 'after-hook';
    if (now) call.env.rebootNow?.();
    return undefined;
  },
};

/** charm.IsBuiltinMetric: keys under `juju` are Juju's own. */
const BUILTIN_PREFIX = 'juju';

export const addMetric: ToolSpec = {
  name: 'add-metric',
  args: 'key1=value1 [key2=value2 ...]',
  purpose: 'add metrics',
  output: false,
  flags: () => [{ names: ['l', 'labels'], kind: 'string', help: 'labels to be associated with metric values', default: '' }],
  run(call) {
    if (call.args.length === 0) throw usageError('no metrics specified');
    const metrics = annotate('invalid metrics', () => parseKeyValues(call.args, false));
    const labelText = call.parsed.strings.get('l') ?? '';
    const labels = annotate('invalid labels', () => parseKeyValues(labelText === '' ? [] : labelText.split(','), false));
    const now = Date.now();
    const values: MetricValue[] = [];
    for (const [key, value] of metrics) {
      if (key.startsWith(BUILTIN_PREFIX)) throw toolError(`${key} uses a reserved prefix`);
      const declared = call.env.snapshot.metrics;
      if (declared === undefined || call.env.snapshot.hookName !== 'collect-metrics') throw toolError('cannot record metric: metrics not allowed in this context');
      const problem = checkMetric(declared, key, value);
      if (problem !== undefined) throw toolError(`cannot record metric: ${problem}`);
      values.push({ key, value, time: now, ...(labels.size > 0 ? { labels: Object.fromEntries(labels) } : {}) });
    }
    (call.env.changes.metrics ??= []).push(...values);
    return undefined;
  },
};

/** The metric recorder's checks (worker/uniter/runner/context/metrics): declared, a float, not negative, not huge. */
export function checkMetric(declared: Record<string, { type: string }>, key: string, value: string): string | undefined {
  if (!Object.hasOwn(declared, key)) return `metric key ${goQuote(key)} not declared by the charm`;
  if (value.length > 30) return 'metric value is too large';
  const n = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|[Ii]nf(inity)?|NaN)$/.test(value) ? Number(value.replace(/^([+-]?)[Ii]nf(inity)?$/, '$1Infinity')) : NaN;
  if (Number.isNaN(n) && value !== 'NaN') return `invalid value type: expected float, got ${goQuote(value)}`;
  if (n < 0) return `invalid value: value must be greater or equal to zero, got ${value}`;
  return undefined;
}

function annotate<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw usageError(`${prefix}: ${(err as Error).message}`);
  }
}

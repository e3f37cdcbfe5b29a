/** status-set, status-get and application-version-set. */
import { checkEmpty, usageError } from './args.ts';
import type { HookToolEnv, StatusValue } from './context.ts';
import { type GoValue, fromJson } from './govalue.ts';
import { type ToolSpec, leads, toolError } from './spec.ts';

const SETTABLE = ['maintenance', 'blocked', 'waiting', 'active'] as const;

export const statusSet: ToolSpec = {
  name: 'status-set',
  args: '<maintenance | blocked | waiting | active> [message]',
  purpose: 'set status information',
  output: false,
  flags: () => [
    {
      names: ['application'],
      kind: 'bool',
      help: 'set this status for the application to which the unit belongs if the unit is the leader',
    },
  ],
  run(call) {
    const [status, message = '', ...rest] = call.args;
    if (status === undefined) throw usageError('invalid args, require <status> [message] [data]');
    if (!(SETTABLE as readonly string[]).includes(status)) {
      throw usageError(`invalid status "${status}", expected one of [${SETTABLE.join(' ')}]`);
    }
    checkEmpty(rest);
    const value: StatusValue = { status, message };
    if (call.parsed.bools.get('application') === true) {
      if (!leads(call.env)) {
        throw toolError('this unit is not the leader');
      }
      call.env.changes.appStatus = value;
    } else {
      call.env.changes.unitStatus = value;
    }
    return undefined;
  },
};

/** The unit's workload status as this hook sees it: its own status-set wins. */
function unitStatus(env: HookToolEnv): StatusValue {
  return env.changes.unitStatus ?? env.snapshot.unitStatus;
}

function details(s: StatusValue, includeData: boolean): Record<string, GoValue> {
  const out: Record<string, GoValue> = { status: s.status };
  if (includeData) {
    out['status-data'] = fromJson(s.data ?? {});
    out['message'] = s.message;
  }
  return out;
}

export const statusGet: ToolSpec = {
  name: 'status-get',
  args: '[--include-data] [--application]',
  purpose: 'print status information',
  output: true,
  flags: () => [
    { names: ['include-data'], kind: 'bool', help: 'print all status data' },
    {
      names: ['application'],
      kind: 'bool',
      help: 'print status for all units of this application if this unit is the leader',
    },
  ],
  run(call) {
    checkEmpty(call.args);
    const { env } = call;
    const includeData = call.parsed.bools.get('include-data') ?? false;
    const brief = !includeData && call.format === 'smart';
    if (call.parsed.bools.get('application') !== true) {
      const mine = unitStatus(env);
      return brief ? mine.status : details(mine, includeData);
    }
    if (!leads(env)) {
      throw toolError('finding application status: this unit is not the leader');
    }
    const app = env.changes.appStatus ?? env.snapshot.appStatus;
    if (brief) return app.status;
    const units: Record<string, GoValue> = {};
    const statuses = { ...env.snapshot.appUnitStatuses, [env.snapshot.unit]: unitStatus(env) };
    for (const [unit, s] of Object.entries(statuses)) units[unit] = details(s, includeData);
    return { 'application-status': { ...details(app, includeData), units } };
  },
};

export const applicationVersionSet: ToolSpec = {
  name: 'application-version-set',
  args: '<new-version>',
  purpose: 'specify which version of the application is deployed',
  output: false,
  flags: () => [],
  run(call) {
    const [version, ...rest] = call.args;
    if (version === undefined) throw usageError('no version specified');
    checkEmpty(rest);
    call.env.changes.applicationVersion = version;
    return undefined;
  },
};

/** config-get, unit-get, network-get and juju-log: what a unit knows about itself. */
import { checkEmpty, usageError } from './args.ts';
import type { LogLevel } from './context.ts';
import { type GoValue, StringList, goQuote } from './govalue.ts';
import { type ToolSpec, hookRelation, relationFlag, relationRef, toolError } from './spec.ts';

export const configGet: ToolSpec = {
  name: 'config-get',
  args: '[<key>]',
  purpose: 'print application configuration',
  output: true,
  flags: () => [{ names: ['a', 'all'], kind: 'bool', help: 'print all keys' }],
  run(call) {
    const [key, ...rest] = call.args;
    const all = call.parsed.bools.get('a') ?? false;
    if (key !== undefined && key !== '' && all) throw usageError(`cannot use argument --all together with key ${goQuote(key)}`);
    checkEmpty(rest);
    const config = call.env.snapshot.config;
    if (key === undefined || key === '') {
      const out: Record<string, GoValue> = {};
      for (const [k, v] of Object.entries(config)) if (v !== null || all) out[k] = v;
      return out;
    }
    return Object.hasOwn(config, key) ? (config[key] ?? null) : null;
  },
};

export const unitGet: ToolSpec = {
  name: 'unit-get',
  args: '<setting>',
  purpose: 'print public-address or private-address',
  output: true,
  flags: () => [],
  run(call) {
    const [setting, ...rest] = call.args;
    if (setting === undefined) throw usageError('no setting specified');
    if (setting !== 'private-address' && setting !== 'public-address') throw usageError(`unknown setting ${goQuote(setting)}`);
    checkEmpty(rest);
    const snap = call.env.snapshot;
    return setting === 'private-address' ? snap.privateAddress : snap.publicAddress;
  },
};

/** The subnet Sigil reports for an address: its /24 (IPv4) or /64 (IPv6), else none. */
function subnetOf(address: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(address);
  if (v4 !== null) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (address.includes(':')) {
    const groups = address.split('::')[0]?.split(':').slice(0, 4) ?? [];
    while (groups.length < 4) groups.push('0');
    return `${groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
  }
  return '';
}

function hostSubnet(address: string): string {
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

export const networkGet: ToolSpec = {
  name: 'network-get',
  args: '<binding-name> [--ingress-address] [--bind-address] [--egress-subnets]',
  purpose: 'get network config',
  output: true,
  flags: (env) => [
    { names: ['primary-address'], kind: 'bool', help: '(deprecated) get the primary address for the binding' },
    { names: ['bind-address'], kind: 'bool', help: 'get the address for the binding on which the unit should listen' },
    { names: ['ingress-address'], kind: 'bool', help: 'get the ingress address for the binding' },
    { names: ['egress-subnets'], kind: 'bool', help: 'get the egress subnets for the binding' },
    relationFlag(env),
  ],
  run(call) {
    const [binding, ...rest] = call.args;
    if (binding === undefined) throw usageError('no arguments specified');
    if (binding === '') throw usageError('no binding name specified');
    const flag = (name: string): boolean => call.parsed.bools.get(name) ?? false;
    const keys = ['bind-address', 'ingress-address', 'egress-subnets'].filter(flag);
    checkEmpty(rest);

    const address = call.env.snapshot.privateAddress;
    if (flag('primary-address')) {
      if (keys.length > 0) throw toolError('--primary-address must be the only flag specified');
      return address;
    }
    const egress = new StringList([hostSubnet(address)]);
    if (keys.length === 0) {
      const addr = new Map<string, GoValue>([
        ['hostname', ''],
        ['value', address],
        ['cidr', subnetOf(address)],
      ]);
      const info = new Map<string, GoValue>([
        ['mac-address', ''],
        ['interface-name', 'eth0'],
        ['addresses', [addr]],
      ]);
      return new Map<string, GoValue>([
        ['bind-addresses', [info]],
        ['egress-subnets', egress],
        ['ingress-addresses', new StringList([address])],
      ]);
    }
    const values: Record<string, GoValue> = { 'bind-address': address, 'ingress-address': address, 'egress-subnets': egress };
    if (keys.length === 1) return values[keys[0] ?? ''] ?? null;
    const out: Record<string, GoValue> = {};
    for (const k of keys) out[k] = values[k] ?? null;
    return out;
  },
};

const LOG_LEVELS: Record<string, LogLevel> = {
  TRACE: 'TRACE',
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  WARN: 'WARNING',
  WARNING: 'WARNING',
  ERROR: 'ERROR',
  CRITICAL: 'ERROR',
};

export const jujuLog: ToolSpec = {
  name: 'juju-log',
  args: '<message>',
  purpose: 'write a message to the juju log',
  output: false,
  flags: () => [
    { names: ['debug'], kind: 'bool', help: 'log at debug level' },
    { names: ['l', 'log-level'], kind: 'string', help: 'Send log message at the given level', default: 'INFO' },
    { names: ['format'], kind: 'string', help: 'deprecated format flag' },
  ],
  run(call) {
    if (call.args.length === 0) throw usageError('no message specified');
    const { env } = call;
    if (call.parsed.strings.has('format')) call.warn('--format flag deprecated for command "juju-log"');
    let level: LogLevel = 'INFO';
    const requested = call.parsed.strings.get('l');
    if (call.parsed.bools.get('debug') === true) level = 'DEBUG';
    else if (requested !== undefined && requested !== '') {
      const known = LOG_LEVELS[requested.toUpperCase()];
      if (known === undefined) env.log('WARNING', `Specified log level of ${goQuote(requested)} is not valid`);
      else level = known;
    }
    const rel = hookRelation(env);
    env.log(level, `${rel === undefined ? '' : `${relationRef(rel)}: `}${call.args.join(' ')}`);
    return undefined;
  },
};

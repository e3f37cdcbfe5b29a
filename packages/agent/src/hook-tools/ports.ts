/**
 * open-port, close-port and opened-ports. Requests are recorded in the hook's change
 * buffer; an open cancels a pending close of the same range and vice versa, as Juju's
 * port-range change tracker does. ICMP is recorded as the range -1..-1, Juju's encoding.
 */
import { checkEmpty, usageError } from './args.ts';
import type { HookToolEnv, PortRange } from './context.ts';
import { StringList, compareCodePoints, goQuote } from './govalue.ts';
import type { ToolSpec } from './spec.ts';

const PORT_FORMAT = '<port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp';
// Juju's pattern, including its quirk: the alternation is anchored only on each side.
const VALID_PORT_OR_RANGE = /^icmp|(?:[0-9]+)(?:-(?:[0-9]+))?(\/(?:[a-z0-9]+))?$/;
const ALL_ENDPOINTS = '*';

/** Parses a port argument as Juju's parseArguments does; returns the range or an error. */
export function parsePortArg(raw: string): PortRange | string {
  const arg = raw.toLowerCase();
  const found = VALID_PORT_OR_RANGE.exec(arg);
  if (found === null) return `expected ${PORT_FORMAT}; got ${goQuote(raw)}`;
  const slash = found[0].indexOf('/');
  const ports = slash < 0 ? found[0] : found[0].slice(0, slash);
  let protocol = slash < 0 ? 'tcp' : found[0].slice(slash + 1);
  let from: number;
  let to: number;
  if (ports === 'icmp') {
    protocol = 'icmp';
    from = -1;
    to = -1;
  } else {
    const [a = '', b] = ports.split(/-(.*)/s);
    from = Number(a);
    to = b === undefined ? from : Number(b);
  }
  if (from === to) {
    if (protocol === 'icmp') return from === -1 ? range(from, to, 'icmp') : `protocol "icmp" doesn't support any ports; got "${from}"`;
    if (from < 1 || from > 65535) return `port must be in the range [1, 65535]; got "${from}"`;
  } else {
    if (from > to) return `invalid port range ${from}-${to}/${protocol}; expected fromPort <= toPort`;
    if (protocol === 'icmp') return `protocol "icmp" doesn't support any ports; got "${from}"`;
    if (from < 1 || from > 65535) return `fromPort must be in the range [1, 65535]; got "${from}"`;
    if (to < 1 || to > 65535) return `toPort must be in the range [1, 65535]; got "${to}"`;
  }
  if (protocol !== 'tcp' && protocol !== 'udp') return `protocol must be "tcp", "udp", or "icmp"; got ${goQuote(protocol)}`;
  return range(from, to, protocol);
}

function range(from: number, to: number, protocol: PortRange['protocol']): PortRange {
  return { from, to, protocol, endpoints: [ALL_ENDPOINTS] };
}

/** `80/tcp`, `8000-8080/udp` or `icmp`, as network.PortRange.String prints it. */
export function portRangeString(p: PortRange): string {
  if (p.protocol === 'icmp') return 'icmp';
  return p.from === p.to ? `${p.from}/${p.protocol}` : `${p.from}-${p.to}/${p.protocol}`;
}

function sameRange(a: PortRange, b: PortRange): boolean {
  return a.from === b.from && a.to === b.to && a.protocol === b.protocol;
}

function sameTarget(a: PortRange, b: PortRange): boolean {
  return sameRange(a, b) && [...a.endpoints].sort().join(',') === [...b.endpoints].sort().join(',');
}

function portCommand(name: 'open-port' | 'close-port', purpose: string): ToolSpec {
  return {
    name,
    args: PORT_FORMAT,
    purpose,
    output: false,
    flags: () => [
      {
        names: ['endpoints'],
        kind: 'string',
        help: 'a comma-delimited list of application endpoints to target with this operation',
      },
      { names: ['format'], kind: 'string', help: 'deprecated format flag' },
    ],
    run(call) {
      const [arg, ...rest] = call.args;
      if (arg === undefined) throw usageError('no port or range specified');
      const parsed = parsePortArg(arg);
      if (typeof parsed === 'string') throw usageError(parsed);
      checkEmpty(rest);
      const endpointsFlag = call.parsed.strings.get('endpoints');
      const endpoints = (endpointsFlag ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
      const request: PortRange = { ...parsed, endpoints: endpoints.length > 0 ? endpoints : [ALL_ENDPOINTS] };
      if (call.parsed.strings.has('format')) call.warn(`--format flag deprecated for command "${name}"`);

      const { changes } = call.env;
      const [pending, opposite] = name === 'open-port' ? [changes.openPorts, changes.closePorts] : [changes.closePorts, changes.openPorts];
      const cancelled = opposite.findIndex((p) => sameTarget(p, request));
      if (cancelled >= 0) opposite.splice(cancelled, 1);
      if (!pending.some((p) => sameTarget(p, request))) pending.push(request);
      return undefined;
    },
  };
}

export const openPort = portCommand('open-port', 'register a request to open a port or port range');
export const closePort = portCommand('close-port', 'register a request to close a port or port range');

/** The unit's port ranges per endpoint as this hook sees them: opened plus its requests. */
function currentPorts(env: HookToolEnv): Map<string, PortRange> {
  const byKey = new Map<string, { range: PortRange; endpoints: Set<string> }>();
  const key = (p: PortRange): string => `${p.protocol}/${p.from}/${p.to}`;
  const add = (p: PortRange): void => {
    const entry = byKey.get(key(p)) ?? { range: p, endpoints: new Set<string>() };
    for (const e of p.endpoints) entry.endpoints.add(e);
    byKey.set(key(p), entry);
  };
  const remove = (p: PortRange): void => {
    const entry = byKey.get(key(p));
    if (entry === undefined) return;
    if (p.endpoints.includes(ALL_ENDPOINTS)) entry.endpoints.clear();
    else for (const e of p.endpoints) entry.endpoints.delete(e);
    if (entry.endpoints.size === 0) byKey.delete(key(p));
  };
  for (const p of env.snapshot.openedPorts) add(p);
  for (const p of env.changes.closePorts) remove(p);
  for (const p of env.changes.openPorts) add(p);
  const out = new Map<string, PortRange>();
  for (const [k, { range: r, endpoints }] of byKey) out.set(k, { ...r, endpoints: [...endpoints] });
  return out;
}

/** network.SortPortRanges: by protocol, then from, then to. */
function comparePorts(a: PortRange, b: PortRange): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return a.from - b.from || a.to - b.to;
}

export const openedPorts: ToolSpec = {
  name: 'opened-ports',
  args: '',
  purpose: 'list all ports or port ranges opened by the unit',
  output: true,
  flags: () => [
    {
      names: ['endpoints'],
      kind: 'bool',
      help: 'display the list of target application endpoints for each port range',
    },
  ],
  run(call) {
    checkEmpty(call.args);
    const ranges = [...currentPorts(call.env).values()].sort(comparePorts);
    if (call.parsed.bools.get('endpoints') !== true) return new StringList(ranges.map(portRangeString));
    return new StringList(
      ranges.map((r) => {
        const eps = r.endpoints.includes(ALL_ENDPOINTS) ? ALL_ENDPOINTS : [...r.endpoints].sort(compareCodePoints).join(', ');
        return `${portRangeString(r)} (${eps})`;
      }),
    );
  },
};

import { execFile } from 'node:child_process';

/**
 * Network partitions between machines on one of Sigil's own LXC bridges, with nftables.
 * Each controller's bridge gets its own table; a partition is an element of a set, with a
 * timeout when it is timed, so the kernel heals it by itself even if the CLI and the
 * controller are gone. Packets are dropped silently, as by a cut cable. Rules only ever
 * match traffic entering or leaving that bridge (and the host's own address on it).
 */

const NAME = /^[A-Za-z0-9_-]{1,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function tableName(bridge: string): string {
  if (!NAME.test(bridge)) throw new Error(`bad bridge name ${JSON.stringify(bridge)}`);
  return `sigil_chaos_${bridge.replace(/-/g, '_')}`;
}

function addr(a: string): string {
  if (!IPV4.test(a)) throw new Error(`bad IPv4 address ${JSON.stringify(a)}`);
  return a;
}

/**
 * The table for one bridge: `cut` holds machines cut off from everything (other machines
 * and the host, the controller included), `pairs` holds (from, to) directions dropped
 * between two machines. Idempotent: applying it again leaves existing elements alone.
 */
export function tableScript(bridge: string): string {
  const t = tableName(bridge);
  const br = JSON.stringify(bridge);
  return [
    `table inet ${t} {`,
    '  set cut { type ipv4_addr; flags timeout; }',
    '  set pairs { type ipv4_addr . ipv4_addr; flags timeout; }',
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    iifname ${br} ip saddr . ip daddr @pairs drop`,
    `    iifname ${br} ip saddr @cut drop`,
    `    oifname ${br} ip daddr @cut drop`,
    '  }',
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    `    iifname ${br} ip saddr @cut drop`,
    '  }',
    '  chain output {',
    '    type filter hook output priority -10; policy accept;',
    `    oifname ${br} ip daddr @cut drop`,
    '  }',
    '}',
  ].join('\n');
}

export interface PartitionSpec {
  /** The machine addresses to partition. */
  targets: string[];
  /** Cut only from these (both ways); empty: from everything, host included. */
  from: string[];
  /** One way only: traffic from `from` to `targets` is dropped, the other way passes. */
  oneWay?: boolean;
  /** Heals itself after this long (whole seconds, at least 1); undefined: until healed. */
  forSeconds?: number;
}

/** nft commands adding a partition's elements. */
export function partitionCommands(bridge: string, spec: PartitionSpec): string[] {
  const t = tableName(bridge);
  const timeout = spec.forSeconds === undefined ? '' : ` timeout ${Math.max(1, Math.round(spec.forSeconds))}s`;
  if (spec.targets.length === 0) throw new Error('no machine to partition');
  if (spec.from.length === 0) {
    if (spec.oneWay) throw new Error('one-way partitions need --from');
    return spec.targets.map((a) => `add element inet ${t} cut { ${addr(a)}${timeout} }`);
  }
  const pairs: string[] = [];
  for (const a of spec.targets) {
    for (const b of spec.from) {
      if (a === b) continue;
      pairs.push(`${addr(b)} . ${addr(a)}${timeout}`);
      if (!spec.oneWay) pairs.push(`${addr(a)} . ${addr(b)}${timeout}`);
    }
  }
  if (pairs.length === 0) throw new Error('a machine cannot be partitioned from itself');
  return [`add element inet ${t} pairs { ${pairs.join(', ')} }`];
}

/** Heals every partition on the bridge (both sets emptied). */
export function healCommands(bridge: string): string[] {
  const t = tableName(bridge);
  return [`flush set inet ${t} cut`, `flush set inet ${t} pairs`];
}

export interface ActivePartitions {
  cut: { address: string; expiresSeconds?: number }[];
  pairs: { from: string; to: string; expiresSeconds?: number }[];
}

/** Reads the sets back (`nft -j list table`): what is partitioned now, and for how long more. */
export function parseTableJson(text: string): ActivePartitions {
  const doc = JSON.parse(text) as { nftables?: { set?: { name: string; elem?: unknown[] } }[] };
  const out: ActivePartitions = { cut: [], pairs: [] };
  for (const item of doc.nftables ?? []) {
    const set = item.set;
    if (!set?.elem) continue;
    for (const raw of set.elem) {
      const el = raw as { elem?: { val: unknown; expires?: number } } | string | { concat: string[] };
      const val = typeof el === 'object' && el !== null && 'elem' in el ? el.elem!.val : el;
      const expires = typeof el === 'object' && el !== null && 'elem' in el ? el.elem!.expires : undefined;
      const extra = expires === undefined ? {} : { expiresSeconds: expires };
      if (set.name === 'cut' && typeof val === 'string') out.cut.push({ address: val, ...extra });
      if (set.name === 'pairs' && typeof val === 'object' && val !== null && 'concat' in val) {
        const [from, to] = (val as { concat: string[] }).concat;
        out.pairs.push({ from: from!, to: to!, ...extra });
      }
    }
  }
  return out;
}

/** Runs `nft -f -` with the given script (commands or a table), as root. */
export function nft(script: string, args: string[] = ['-f', '-']): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`nft ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    // nft may exit before reading its input (a list command, an early error): the broken pipe
    // is not the failure, its exit status and stderr are (reported above).
    child.stdin?.on('error', () => {});
    child.stdin?.end(script);
  });
}

/** Ensures the bridge's table exists, then adds the partition. */
export async function partition(bridge: string, spec: PartitionSpec): Promise<void> {
  const commands = partitionCommands(bridge, spec);
  await nft(tableScript(bridge));
  await nft(commands.join('\n'));
}

export async function heal(bridge: string): Promise<void> {
  await nft(tableScript(bridge));
  await nft(healCommands(bridge).join('\n'));
}

export async function listPartitions(bridge: string): Promise<ActivePartitions> {
  await nft(tableScript(bridge));
  return parseTableJson(await nft('', ['-j', 'list', 'table', 'inet', tableName(bridge)]));
}

/** Removes the bridge's table (the controller is being destroyed). */
export async function dropTable(bridge: string): Promise<void> {
  await nft('', ['delete', 'table', 'inet', tableName(bridge)]).catch(() => undefined);
}

/**
 * What memcached should run with, decided from the charm config without touching the
 * machine: validation (a bad value names the option), the /etc/memcached.conf text, and
 * whether a change needs a restart. memcached reads its options only at start, except
 * verbosity, which the `verbosity` command changes in place.
 */
import { StatusError, blocked } from '@sigil/charm-sdk';

export interface Settings {
  size: number;
  tcpPort: number;
  udpPort: number;
  connectionLimit: number;
  debug: boolean;
}

interface Config {
  size: number;
  'tcp-port': number;
  'udp-port': number;
  'connection-limit': number;
  debug: boolean;
}

/** The settings for a config, or a StatusError(blocked) naming the first bad option. */
export function settingsFrom(c: Config): Settings {
  const bad = (option: string, value: number, why: string) => new StatusError(blocked`${option}=${value} ${why}`);
  if (c.size < 1) throw bad('size', c.size, 'is too small: give memcached at least 1 (MB)');
  if (c['tcp-port'] < 1 || c['tcp-port'] > 65535) throw bad('tcp-port', c['tcp-port'], 'is not a port: use 1-65535');
  if (c['udp-port'] < 0 || c['udp-port'] > 65535) throw bad('udp-port', c['udp-port'], 'is not a port: use 1-65535, or 0 to turn UDP off');
  if (c['connection-limit'] < 1) throw bad('connection-limit', c['connection-limit'], 'is too small: allow at least 1 connection');
  return { size: c.size, tcpPort: c['tcp-port'], udpPort: c['udp-port'], connectionLimit: c['connection-limit'], debug: c.debug };
}

const VERBOSE = '-vv';

/**
 * /etc/memcached.conf as Debian's systemd wrapper reads it: one option per line. No `-l`:
 * memcached listens on every address, so related units reach it on the unit's address.
 * Output goes to the journal (the wrapper ignores `logfile`), which the charm forwards.
 */
export function render(s: Settings): string {
  return [
    '# Written by the Sigil memcached charm; change it with `sigil config memcached …`.',
    `-m ${s.size}`,
    `-p ${s.tcpPort}`,
    `-U ${s.udpPort}`,
    `-c ${s.connectionLimit}`,
    '-u memcache',
    '-P /var/run/memcached/memcached.pid',
    ...(s.debug ? [VERBOSE] : []),
    '',
  ].join('\n');
}

export type Plan = { kind: 'none' } | { kind: 'restart' } | { kind: 'verbosity'; level: number };

/** memcached's verbosity in a configuration: the number of v's in `-v`, `-vv` or `-vvv`. */
function verbosity(lines: string[]): number {
  return Math.max(0, ...lines.map((l) => /^-(v+)$/.exec(l.trim())?.[1]!.length ?? 0));
}

/**
 * What memcached needs to go from the configuration it runs with to the wanted one (the
 * charm writes the wanted text whenever it differs).
 */
export function plan(current: string, wanted: string): Plan {
  if (current === wanted) return { kind: 'none' };
  const [cur, want] = [current.split('\n'), wanted.split('\n')];
  const quiet = (lines: string[]) => lines.filter((l) => !/^-v+$/.test(l.trim())).join('\n');
  if (quiet(cur) !== quiet(want)) return { kind: 'restart' };
  return verbosity(cur) === verbosity(want) ? { kind: 'none' } : { kind: 'verbosity', level: verbosity(want) };
}

/** The TCP port in a memcached configuration, if it has one. */
export function runningPort(conf: string): number | undefined {
  const m = /^-p\s+(\d+)\s*$/m.exec(conf);
  return m ? Number(m[1]) : undefined;
}

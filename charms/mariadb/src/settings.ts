/**
 * From the charm's config to MariaDB server settings, and from old settings to new ones:
 * pure functions, so what is written and whether MariaDB restarts is table-tested.
 */

/** mysqld variables the charm sets (names as in SHOW VARIABLES), as text. */
export type Settings = Readonly<Record<string, string>>;

export interface MariadbConfig {
  readonly port: number;
  readonly 'max-connections': number;
  readonly 'wait-timeout': number;
  readonly 'innodb-buffer-pool-size': string;
  readonly 'query-cache-type': string;
  readonly 'query-cache-size': number;
}

/** The config option each variable comes from, to name it in messages. */
export const OPTION_OF: Readonly<Record<string, string>> = {
  bind_address: 'the machine address',
  port: 'port',
  max_connections: 'max-connections',
  wait_timeout: 'wait-timeout',
  innodb_buffer_pool_size: 'innodb-buffer-pool-size',
  query_cache_type: 'query-cache-type',
  query_cache_size: 'query-cache-size',
};

/** Variables MariaDB reads only at start-up; every other one is changed with SET GLOBAL. */
const STATIC = new Set(['bind_address', 'port']);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const MIB = 1024 ** 2;

/** Bytes from "536870912", "512M", "2g"; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([KMG]?)$/i.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : undefined;
}

export function formatSize(bytes: number): string {
  for (const [suffix, n] of [['G', 1024 ** 3], ['M', MIB], ['K', 1024]] as const) if (bytes >= n) return `${Math.round((bytes / n) * 10) / 10}${suffix}`;
  return String(bytes);
}

/**
 * The settings for this config on a machine with this address and memory. Throws a
 * ConfigError naming every bad option, its value and what to use instead.
 */
export function settingsFrom(config: MariadbConfig, address: string, memoryBytes: number): Settings {
  const problems: string[] = [];
  const out: Record<string, string> = { bind_address: address };
  const range = (option: keyof MariadbConfig, variable: string, value: number, min: number, max: number, unit = '') => {
    if (value === -1) return;
    if (value < min || value > max) problems.push(`${option}=${value} is out of range: use ${min}-${max}${unit}, or -1 for the server's default`);
    else out[variable] = String(value);
  };

  const port = config.port;
  if (port < 1024 || port > 65535) problems.push(`port=${port} is out of range: use 1024-65535 (MariaDB does not run as root)`);
  else out.port = String(port);
  range('max-connections', 'max_connections', config['max-connections'], 10, 100_000);
  range('wait-timeout', 'wait_timeout', config['wait-timeout'], 1, 31_536_000, ' seconds');

  const pool = config['innodb-buffer-pool-size'].trim();
  if (pool !== '') {
    const bytes = parseSize(pool);
    if (bytes === undefined) problems.push(`innodb-buffer-pool-size=${pool} is not a size: use bytes or a number with K, M or G, e.g. 512M`);
    else if (bytes < 8 * MIB) problems.push(`innodb-buffer-pool-size=${pool} is too small: use at least 8M`);
    else if (bytes >= memoryBytes) problems.push(`innodb-buffer-pool-size=${pool} is not less than this machine's memory (${formatSize(memoryBytes)}): use less`);
    else out.innodb_buffer_pool_size = String(bytes);
  }

  const cacheType = config['query-cache-type'].trim().toUpperCase();
  if (!['OFF', 'ON', 'DEMAND'].includes(cacheType)) problems.push(`query-cache-type=${config['query-cache-type']} is not a query cache type: use OFF, ON or DEMAND`);
  else out.query_cache_type = cacheType;
  range('query-cache-size', 'query_cache_size', config['query-cache-size'], 0, 1024 ** 3, ' bytes');

  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** What it takes to go from the running settings to new ones. */
export interface Plan {
  /** Variables to SET GLOBAL; null means back to the server's default. */
  readonly set: readonly { readonly name: string; readonly value: string | null }[];
  readonly restart: boolean;
  /** The variables that differ, for logs and messages. */
  readonly changed: readonly string[];
}

/**
 * The least disruptive way to apply `next` when MariaDB runs with `old` (undefined: not yet
 * configured by the charm). Static variables need a restart; the rest are set live.
 */
export function plan(old: Settings | undefined, next: Settings, running: boolean): Plan {
  const names = [...new Set([...Object.keys(old ?? {}), ...Object.keys(next)])].sort();
  const changed = names.filter((n) => old?.[n] !== next[n]);
  const restart = !running || old === undefined || changed.some((n) => STATIC.has(n));
  return { set: restart ? [] : changed.map((name) => ({ name, value: next[name] ?? null })), restart, changed };
}

const HEADER = '# Written by the mariadb charm from its config; changes made here are overwritten.\n[mysqld]\n';

export function renderSettings(s: Settings): string {
  return HEADER + Object.entries(s).map(([k, v]) => `${k} = ${v}\n`).join('');
}

/** Reads back what renderSettings wrote. */
export function parseSettings(text: string): Settings {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) = (.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

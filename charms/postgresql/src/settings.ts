/**
 * postgresql.conf settings from the charm's config: validation with messages that name
 * the option, rendering of the file the charm owns (conf.d/50-sigil.conf), and which
 * changes need a restart rather than a reload. Pure, so it is table-tested.
 */

export interface TunedConfig {
  port: number;
  max_connections: number;
  shared_buffers: string;
  work_mem: string;
  maintenance_work_mem: string;
  effective_cache_size: string;
}

/** PostgreSQL parameter → value, as written to the file (values unquoted here). */
export type Settings = Record<string, string>;

/** Parameters PostgreSQL reads only at server start (context `postmaster`). */
export const RESTART_SETTINGS: ReadonlySet<string> = new Set(['listen_addresses', 'port', 'max_connections', 'shared_buffers']);

const MEMORY = /^[0-9]+(kB|MB|GB|TB)?$/;
const MEMORY_OPTIONS = ['shared_buffers', 'work_mem', 'maintenance_work_mem', 'effective_cache_size'] as const;

/** The first problem with the config, as a message for a blocked status; undefined when it is usable. */
export function configProblem(c: TunedConfig): string | undefined {
  if (!Number.isInteger(c.port) || c.port < 1024 || c.port > 65535) return `port=${c.port} is out of range: use 1024-65535 (PostgreSQL does not run as root)`;
  if (c.max_connections < 10 || c.max_connections > 262143) return `max_connections=${c.max_connections} is out of range: use 10-262143`;
  for (const k of MEMORY_OPTIONS) {
    const v = c[k].trim();
    if (!MEMORY.test(v)) return `${k}=${c[k]} is not a memory size: use a whole number with kB, MB, GB or TB (e.g. 64MB)`;
  }
  return undefined;
}

/** The settings the charm writes for this config and listen address. */
export function settingsFor(c: TunedConfig, address: string): Settings {
  return {
    listen_addresses: address ? `localhost,${address}` : 'localhost',
    port: String(c.port),
    max_connections: String(c.max_connections),
    shared_buffers: c.shared_buffers.trim(),
    work_mem: c.work_mem.trim(),
    maintenance_work_mem: c.maintenance_work_mem.trim(),
    effective_cache_size: c.effective_cache_size.trim(),
  };
}

const HEADER = '# Managed by the Sigil postgresql charm: change these with `sigil config postgresql`.\n';

export function render(s: Settings): string {
  return HEADER + Object.entries(s).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'\n`).join('');
}

/** Reads a file written by `render` (and tolerates hand edits in the same `key = value` form). */
export function parse(text: string | undefined): Settings {
  const out: Settings = {};
  for (const line of (text ?? '').split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(?:'((?:[^']|'')*)'|(\S+))/.exec(line);
    if (m) out[m[1]!] = m[2] !== undefined ? m[2].replace(/''/g, "'") : m[3]!;
  }
  return out;
}

/** The keys whose values differ between two settings. */
export function changedKeys(before: Settings, after: Settings): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}

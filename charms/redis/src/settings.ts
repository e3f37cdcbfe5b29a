/**
 * What Redis should run with, decided from the charm config without touching the machine:
 * validation (a bad value names the option), the redis.conf text, and what a change takes:
 * CONFIG SET for the directives Redis changes at run time, a restart for the others.
 */
import { StatusError, blocked } from '@sigil/charm-sdk';

export const PERSISTENCE = ['none', 'rdb', 'aof'] as const;
export type Persistence = (typeof PERSISTENCE)[number];

export interface Settings {
  port: number;
  persistence: Persistence;
  password: string;
}

/** The settings for a config, or a StatusError(blocked) naming the first bad option. */
export function settingsFrom(c: { port: number; persistence: string }, password: string): Settings {
  if (c.port < 1 || c.port > 65535) throw new StatusError(blocked`port=${c.port} is not a port: use 1-65535`);
  const persistence = PERSISTENCE.find((p) => p === c.persistence);
  if (!persistence) throw new StatusError(blocked`persistence=${c.persistence} is not one of ${PERSISTENCE.join(', ')}`);
  return { port: c.port, persistence, password };
}

/** Redis's own default snapshot schedule (seconds, changed keys), as Debian ships it. */
const RDB_SCHEDULE = '3600 1 300 100 60 10000';

/** The directives the charm manages, values unquoted; everything else keeps Redis's default. */
export function directives(s: Settings): [string, string][] {
  return [
    // Every address: related units connect to the unit's address. The password guards it.
    ['bind', '* -::*'],
    ['port', String(s.port)],
    ['requirepass', s.password],
    ['pidfile', '/run/redis/redis-server.pid'],
    ['logfile', '/var/log/redis/redis-server.log'],
    ['dir', '/var/lib/redis'],
    ['save', s.persistence === 'rdb' ? RDB_SCHEDULE : ''],
    ['appendonly', s.persistence === 'aof' ? 'yes' : 'no'],
    ['appendfsync', 'everysec'],
  ];
}

export function render(s: Settings): string {
  const lines = directives(s).map(([k, v]) => `${k} ${v === '' ? '""' : v}`);
  return ['# Written by the Sigil redis charm; change it with `sigil config redis …`.', ...lines, ''].join('\n');
}

/** A redis.conf's directives; a directive given several times keeps every value, in order. */
export function parse(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, key, rest = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    const value = /^"(.*)"$/.exec(rest)?.[1] ?? rest;
    const k = key!.toLowerCase();
    out.set(k, out.has(k) ? `${out.get(k)}\n${value}` : value);
  }
  return out;
}

/** Directives `CONFIG SET` changes on a running Redis; any other change needs a restart. */
const LIVE = new Set(['save', 'appendonly', 'appendfsync', 'requirepass']);

export type Plan = { kind: 'none' } | { kind: 'restart' } | { kind: 'set'; values: [string, string][] };

/**
 * What Redis needs to go from the configuration it runs with to the wanted one (the charm
 * writes the wanted text whenever it differs).
 */
export function plan(current: string, wanted: string): Plan {
  const [cur, want] = [parse(current), parse(wanted)];
  const changed = [...new Set([...cur.keys(), ...want.keys()])].filter((k) => cur.get(k) !== want.get(k));
  if (changed.length === 0) return { kind: 'none' };
  if (changed.some((k) => !LIVE.has(k))) return { kind: 'restart' };
  return { kind: 'set', values: changed.map((k) => [k, want.get(k) ?? '']) };
}

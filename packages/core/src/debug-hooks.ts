import YAML from 'yaml';
import type { Charm } from './charm/types.ts';
import { SigilError } from './errors.ts';
import { unitTag } from './names.ts';

/**
 * What `sigil debug-hooks` and `debug-code` share with the agent on the unit's machine, as
 * Juju's worker/uniter/runner/debug does: the tmux session is named after the unit, the
 * client writes its arguments (YAML `hooks`, `debug-at`) into its entry lock file
 * `/tmp/juju-unit-<app>-<n>-debug-hooks` and holds `…-exit` locked while it is attached.
 * Both sides compute the paths from the machine's root: `/` on a real machine (an LXC
 * container, an enlisted host), the machine's directory for local-process, whose machines
 * share one host and so also get their own tmux socket.
 */
export interface DebugPaths {
  /** The directory of the lock files and the per-hook debug directories. */
  tmp: string;
  /** The entry lock; its content is the client's arguments. */
  args: string;
  /** Held by the client while it is attached: free means the operator has gone. */
  exitLock: string;
  /** tmux's arguments that pick the server: none (the default socket) on a real machine. */
  tmux: string[];
  /** The tmux session, named after the unit as Juju names it. */
  session: string;
}

export function debugPaths(root: string, unit: string): DebugPaths {
  const tmp = `${root.replace(/\/+$/, '')}/tmp`;
  const args = `${tmp}/juju-${unitTag(unit)}-debug-hooks`;
  return { tmp, args, exitLock: `${args}-exit`, tmux: root === '/' ? [] : ['-S', `${tmp}/sigil-tmux.sock`], session: unit };
}

/** tmux target for the unit's session: `=` asks for that exact name, never a prefix match. */
export function debugSessionTarget(unit: string): string {
  return `=${unit}`;
}

export interface DebugArgs {
  /** Hooks and actions to stop at; empty means all of them. */
  hooks: string[];
  /** debug-code: the value of JUJU_DEBUG_AT (the charm stops there itself). */
  debugAt?: string;
}

/** The client's arguments as Juju writes them: YAML with `hooks` and `debug-at`, each only when set. */
export function encodeDebugArgs(a: DebugArgs): string {
  const doc: Record<string, unknown> = {};
  if (a.hooks.length > 0) doc.hooks = a.hooks;
  if (a.debugAt !== undefined && a.debugAt !== '') doc['debug-at'] = a.debugAt;
  return Object.keys(doc).length === 0 ? '{}\n' : YAML.stringify(doc);
}

/** Reads the client's arguments; anything unreadable means "no session" (undefined). */
export function parseDebugArgs(text: string): DebugArgs | undefined {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return undefined;
  }
  if (doc === null || doc === undefined) return { hooks: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const d = doc as { hooks?: unknown; 'debug-at'?: unknown };
  const hooks = Array.isArray(d.hooks) ? d.hooks.filter((h): h is string => typeof h === 'string') : [];
  const at = d['debug-at'];
  return typeof at === 'string' && at !== '' ? { hooks, debugAt: at } : { hooks };
}

/** Juju's MatchHook: a session without names stops at every hook and action. */
export function debugMatches(a: DebugArgs, name: string): boolean {
  return a.hooks.length === 0 || a.hooks.includes(name);
}

const UNIT_HOOKS = [
  'install', 'start', 'config-changed', 'upgrade-charm', 'stop', 'remove', 'leader-elected', 'leader-deposed', 'leader-settings-changed',
  'update-status', 'pre-series-upgrade', 'post-series-upgrade', 'collect-metrics',
];
const SECRET_HOOKS = ['secret-changed', 'secret-expired', 'secret-remove', 'secret-rotate'];
const RELATION_HOOKS = ['relation-created', 'relation-joined', 'relation-changed', 'relation-departed', 'relation-broken'];
const STORAGE_HOOKS = ['storage-attached', 'storage-detaching'];
const WORKLOAD_HOOKS = ['pebble-check-failed', 'pebble-check-recovered', 'pebble-custom-notice', 'pebble-ready'];

/** Every hook a charm can receive (Juju's Meta.Hooks, plus juju-info's relation hooks), sorted. */
export function charmHookNames(charm: Charm): string[] {
  const all = new Set<string>([...UNIT_HOOKS, ...SECRET_HOOKS]);
  const m = charm.meta;
  for (const ep of ['juju-info', ...Object.keys(m.provides), ...Object.keys(m.requires), ...Object.keys(m.peers)]) for (const h of RELATION_HOOKS) all.add(`${ep}-${h}`);
  for (const s of Object.keys(m.storage)) for (const h of STORAGE_HOOKS) all.add(`${s}-${h}`);
  const containers = m.raw.containers;
  if (containers && typeof containers === 'object' && !Array.isArray(containers)) for (const c of Object.keys(containers)) for (const h of WORKLOAD_HOOKS) all.add(`${c}-${h}`);
  return [...all].sort();
}

/**
 * The names to stop at, checked as `juju debug-hooks` checks them: each must be a hook or
 * an action of the unit's charm; `*` anywhere means all (an empty list).
 */
export function checkDebugNames(unit: string, names: string[], hooks: string[], actions: string[]): string[] {
  if (names.includes('*')) return [];
  const valid = new Set([...hooks, ...actions]);
  for (const n of names) {
    if (valid.has(n)) continue;
    const shown = n.length > 80 ? `${n.slice(0, 80)}…` : n;
    throw new SigilError(
      'bad-request',
      `unit "${unit}" contains neither hook nor action "${shown}", valid actions are [${[...actions].sort().join(' ')}] and valid hooks are [${hooks.join(' ')}]`,
      'name hooks as the charm receives them (config-changed, db-relation-joined, …) or its actions; give none (or "*") to stop at every hook and action',
    );
  }
  return [...new Set(names)];
}

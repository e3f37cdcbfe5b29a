import type { OperationView, RelationView, UnitView } from '@sigil/api';
import { naturalCompare } from '@sigil/core';
import type { HookInfo, LocalRelation, LocalState } from './state.ts';
import { nextSecretDue, secretHook } from './secrets.ts';
import { resourcesHash, storageHook } from './storage.ts';

export interface RemoteState {
  unit: UnitView;
  /** Hash of the config and machine address: config-changed runs when it differs. */
  configHash: string;
  retryHooks: boolean;
}

export type Op =
  | { type: 'run-hook'; hook: HookInfo }
  | { type: 'retry-hook'; hook: HookInfo }
  | { type: 'skip-hook'; hook: HookInfo }
  | { type: 'run-operation'; operation: OperationView }
  | { type: 'enter-scope'; relationId: number }
  | { type: 'leave-scope'; relationId: number }
  | { type: 'forget-relation'; relationId: number }
  | { type: 'set-dead' }
  | { type: 'wait'; until?: number };

/**
 * Decides the unit's next operation from (local state, remote state, now). Pure: the
 * uniter runs what it returns, commits, and asks again. The order is Juju's
 * (worker/uniter/resolver.go): queued hook, relation-created, leadership, actions and
 * exec, the error gate, then by life: install, upgrade-charm, config-changed, relation
 * hooks, update-status; or, when dying, departed/broken, stop, remove.
 */
export function nextOp(local: LocalState, remote: RemoteState, now: number): Op {
  const u = remote.unit;
  if (local.dead) return { type: 'wait' };
  if (local.queued && !local.failed) return { type: 'run-hook', hook: local.queued };
  const alive = u.life === 'alive';
  const rels = [...u.relations].sort((a, b) => a.id - b.id);

  if (local.installed && alive && !local.failed) {
    for (const r of rels) {
      const l = local.relations[String(r.id)];
      if (r.life === 'alive' && !l?.created) return hook(r, `${r.endpoint}-relation-created`);
      if (r.life === 'alive' && l && !l.inScope && !l.broken) return { type: 'enter-scope', relationId: r.id };
    }
  }

  if (local.installed && !local.failed && alive) {
    if (u.leader && !local.leader) return { type: 'run-hook', hook: { name: 'leader-elected' } };
    if (!u.leader && (local.leader || u.leaderSettingsVersion !== local.leaderSettingsVersion)) {
      return { type: 'run-hook', hook: { name: 'leader-settings-changed' } };
    }
  }

  // Secrets come after leadership and before actions (Juju's uniterResolver order).
  if (local.installed && !local.failed && alive) {
    const secret = secretHook(local, u, now);
    if (secret) return { type: 'run-hook', hook: secret };
  }

  // Actions and commands run even while a hook error waits for resolution (Juju does too).
  const op = u.operations.find((o) => o.kind === 'exec' || local.installed);
  if (op) return { type: 'run-operation', operation: op };

  // Storage after actions and commands (Juju's order): storage-attached for every store
  // before install, detaching before stop.
  if (!local.failed) {
    const storage = storageHook(local, u);
    if (storage) return storage;
  }

  if (local.failed) {
    // Removal never gets stuck on a failed hook (Juju's most persistent complaint): a
    // dying unit skips it, as `resolve --no-retry` would, and carries on towards removal.
    if (u.life !== 'alive') return { type: 'skip-hook', hook: local.failed };
    if (u.resolved === 'retry') return { type: 'retry-hook', hook: local.failed };
    if (u.resolved === 'no-retry') return { type: 'skip-hook', hook: local.failed };
    if (remote.retryHooks && now >= local.nextRetryAt) return { type: 'retry-hook', hook: local.failed };
    return remote.retryHooks ? { type: 'wait', until: local.nextRetryAt } : { type: 'wait' };
  }

  if (alive) {
    if (!local.installed) return { type: 'run-hook', hook: { name: 'install' } };
    if (u.charmHash !== local.charmHash || resourcesHash(u) !== (local.resourcesHash ?? '')) return { type: 'run-hook', hook: { name: 'upgrade-charm' } };
    if (remote.configHash !== local.configHash) return { type: 'run-hook', hook: { name: 'config-changed' } };
    for (const r of rels) {
      const next = relationOp(local.relations[String(r.id)], r, u.name, r.life !== 'alive', false);
      if (next) return next;
    }
  } else {
    for (const r of rels) {
      const next = relationOp(local.relations[String(r.id)], r, u.name, true, true);
      if (next) return next;
    }
  }
  // Relations the controller has removed: finish them locally.
  const known = new Set(rels.map((r) => String(r.id)));
  for (const [id, l] of Object.entries(local.relations)) {
    if (known.has(id)) continue;
    const gone = departOrBreak(l, Number(id), u.name, !alive);
    return gone ?? { type: 'forget-relation', relationId: Number(id) };
  }

  if (alive) {
    if (local.started && now >= local.nextUpdateStatus) return { type: 'run-hook', hook: { name: 'update-status' } };
    const secretDue = local.installed ? nextSecretDue(u, now) : undefined;
    const until = local.started ? Math.min(local.nextUpdateStatus, secretDue ?? Infinity) : secretDue;
    return until === undefined ? { type: 'wait' } : { type: 'wait', until };
  }
  if (local.started && !local.stopped) return { type: 'run-hook', hook: { name: 'stop' } };
  if (local.installed && !local.removed) return { type: 'run-hook', hook: { name: 'remove' } };
  return { type: 'set-dead' };
}

function hook(r: RelationView, name: string, extra: Partial<HookInfo> = {}): Op {
  return { type: 'run-hook', hook: { name, relationId: r.id, endpoint: r.endpoint, remoteApp: r.remoteApp, ...extra } };
}

/**
 * One relation's next hook. Order within a relation (relation/resolver.go): a -changed
 * owed after a join; -departed for units gone; -broken when leaving; the remote
 * application's -changed; -joined for new units; unit -changed where versions moved.
 */
function relationOp(l: LocalRelation | undefined, r: RelationView, self: string, leaving: boolean, selfDying: boolean): Op | undefined {
  if (!l || !l.created) return undefined;
  const members = Object.keys(l.members).sort(naturalCompare);
  // The -changed owed after a -joined always comes next, even if the unit is leaving.
  for (const m of members) {
    if (l.members[m] === -1) return hook(r, `${r.endpoint}-relation-changed`, { remoteUnit: m, version: r.members[m] ?? 0 });
  }
  // The departing unit is this one only when this unit is going away (Juju's rule).
  for (const m of members) {
    if (leaving || !(m in r.members)) {
      return hook(r, `${r.endpoint}-relation-departed`, { remoteUnit: m, departingUnit: selfDying ? self : m });
    }
  }
  if (leaving) {
    if (!l.broken && !l.peer) return hook(r, `${r.endpoint}-relation-broken`);
    if (l.inScope) return { type: 'leave-scope', relationId: r.id };
    return undefined;
  }
  if (!l.inScope) return undefined;
  if (r.remoteAppVersion > l.appVersion) return hook(r, `${r.endpoint}-relation-changed`, { version: r.remoteAppVersion });
  for (const m of Object.keys(r.members).sort(naturalCompare)) {
    if (!(m in l.members)) return hook(r, `${r.endpoint}-relation-joined`, { remoteUnit: m });
  }
  for (const m of Object.keys(r.members).sort(naturalCompare)) {
    const seen = l.members[m]!;
    if (r.members[m]! > seen) return hook(r, `${r.endpoint}-relation-changed`, { remoteUnit: m, version: r.members[m]! });
  }
  return undefined;
}

function departOrBreak(l: LocalRelation, id: number, self: string, selfLeaving: boolean): Op | undefined {
  const base = { relationId: id, endpoint: l.endpoint, remoteApp: l.remoteApp };
  const m = Object.keys(l.members).sort(naturalCompare)[0];
  if (m !== undefined) return { type: 'run-hook', hook: { ...base, name: `${l.endpoint}-relation-departed`, remoteUnit: m, departingUnit: selfLeaving ? self : m } };
  if (l.created && !l.broken && !l.peer) return { type: 'run-hook', hook: { ...base, name: `${l.endpoint}-relation-broken` } };
  return undefined;
}

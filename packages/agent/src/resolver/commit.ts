import type { RelationView, UnitView } from '@sigil/api';
import type { HookInfo, LocalState } from './state.ts';
import { commitSecretHook } from './secrets.ts';
import { commitStorageHook, resourcesHash } from './storage.ts';

export interface CommitContext {
  unit: UnitView;
  configHash: string;
  now: number;
  /** The next update-status delay (interval with ±20 % jitter), chosen by the caller. */
  updateStatusDelay: number;
  /** Application bag versions this hook itself wrote (the writer is never told of its own writes). */
  ownAppVersions: Record<string, number>;
  /** storage-attached: where the agent put the storage. */
  storageLocation?: string;
}

/**
 * The local-state effect of a hook that completed (or was skipped by `resolve --no-retry`).
 * Pure, like the resolver: given the same inputs it returns the same next state.
 */
export function commitHook(prev: LocalState, h: HookInfo, c: CommitContext): LocalState {
  const s: LocalState = structuredClone(prev);
  delete s.running;
  delete s.failed;
  if (s.queued?.name === h.name) delete s.queued;
  s.retries = 0;
  s.nextRetryAt = 0;
  const rel = h.relationId === undefined ? undefined : c.unit.relations.find((r) => r.id === h.relationId);
  const key = String(h.relationId);
  const suffix = h.name.slice(h.endpoint ? h.endpoint.length + 1 : 0);

  switch (h.name) {
    case 'install':
      s.installed = true;
      s.charmHash = c.unit.charmHash;
      setResourcesHash(s, c.unit);
      break;
    case 'leader-elected':
      s.leader = true;
      s.leaderSettingsVersion = c.unit.leaderSettingsVersion;
      break;
    case 'leader-settings-changed':
      s.leader = false;
      s.leaderSettingsVersion = c.unit.leaderSettingsVersion;
      break;
    case 'config-changed':
      s.configHash = c.configHash;
      if (!s.started) s.queued = { name: 'start' };
      break;
    case 'upgrade-charm':
      // A machine refresh runs upgrade-charm → config-changed → start (reference §2.3).
      s.charmHash = c.unit.charmHash;
      setResourcesHash(s, c.unit);
      s.started = false;
      s.queued = { name: 'config-changed' };
      break;
    case 'start':
      s.started = true;
      s.nextUpdateStatus = c.now + c.updateStatusDelay;
      break;
    case 'update-status':
      s.nextUpdateStatus = c.now + c.updateStatusDelay;
      break;
    case 'stop':
      s.stopped = true;
      break;
    case 'remove':
      s.removed = true;
      break;
    default:
      if (h.secretId !== undefined) commitSecretHook(s, h);
      else if (h.storageId !== undefined) commitStorageHook(s, h, c.unit, c.storageLocation ?? '');
      else if (h.relationId !== undefined) applyRelationHook(s, key, suffix, h, rel);
  }
  for (const [id, v] of Object.entries(c.ownAppVersions)) {
    const l = s.relations[id];
    if (l?.peer) l.appVersion = Math.max(l.appVersion, v);
  }
  return s;
}

function applyRelationHook(s: LocalState, key: string, suffix: string, h: HookInfo, rel: RelationView | undefined): void {
  if (suffix === 'relation-created') {
    s.relations[key] = {
      endpoint: h.endpoint ?? '',
      remoteApp: h.remoteApp ?? '',
      peer: rel?.role === 'peer',
      created: true,
      inScope: false,
      members: {},
      appVersion: 0,
      broken: false,
    };
    return;
  }
  const l = s.relations[key];
  if (!l) return;
  if (suffix === 'relation-joined' && h.remoteUnit) l.members[h.remoteUnit] = -1;
  else if (suffix === 'relation-changed' && h.remoteUnit) l.members[h.remoteUnit] = h.version ?? 0;
  else if (suffix === 'relation-changed') l.appVersion = h.version ?? l.appVersion;
  else if (suffix === 'relation-departed' && h.remoteUnit) delete l.members[h.remoteUnit];
  else if (suffix === 'relation-broken') l.broken = true;
}

/** Recorded only once an application has resources, so a state without them stays as it was. */
function setResourcesHash(s: LocalState, u: UnitView): void {
  const h = resourcesHash(u);
  if (h !== '' || s.resourcesHash !== undefined) s.resourcesHash = h;
}

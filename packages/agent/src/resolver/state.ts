/** The uniter's persisted local state: what this unit has done, as Juju's uniter keeps it. */
import type { LocalSecrets } from './secrets.ts';

export interface HookInfo {
  /** The full hook name, e.g. `install` or `db-relation-changed`. */
  name: string;
  relationId?: number;
  endpoint?: string;
  remoteUnit?: string;
  remoteApp?: string;
  departingUnit?: string;
  /** For relation-changed: the settings version this run consumes. */
  version?: number;
  /** Secret hooks: JUJU_SECRET_ID (the bare id), JUJU_SECRET_LABEL, JUJU_SECRET_REVISION. */
  secretId?: string;
  secretLabel?: string;
  secretRevision?: number;
  /** secret-rotate: the rotation time it answers. */
  secretRotateAt?: number;
  /** Storage hooks: JUJU_STORAGE_ID (`data/0`); the location is the agent's to decide. */
  storageId?: string;
}

export interface LocalRelation {
  endpoint: string;
  remoteApp: string;
  peer: boolean;
  created: boolean;
  inScope: boolean;
  /** Remote units we have seen join, with the settings version last delivered (-1: -changed still owed). */
  members: Record<string, number>;
  appVersion: number;
  broken: boolean;
}

export interface LocalState {
  installed: boolean;
  started: boolean;
  stopped: boolean;
  removed: boolean;
  dead: boolean;
  charmHash: string;
  leader: boolean;
  leaderSettingsVersion: number;
  configHash: string;
  relations: Record<string, LocalRelation>;
  /** A hook a commit queued to run next (start after the first config-changed). */
  queued?: HookInfo;
  /** Written before a hook executes: finding it on start-up means the agent died mid-hook. */
  running?: HookInfo;
  /** The hook that failed and waits for resolve or retry. */
  failed?: HookInfo;
  retries: number;
  nextRetryAt: number;
  nextUpdateStatus: number;
  /** Secret events already handled (resolver/secrets.ts). */
  secrets?: LocalSecrets;
  /** Storage this unit ran storage-attached for, by id, with where it is (issue 20). */
  storage?: Record<string, { name: string; kind: 'filesystem' | 'block'; location: string }>;
  /** The resource fingerprints upgrade-charm (or install) last ran for (issue 20). */
  resourcesHash?: string;
}

export function initialState(): LocalState {
  return {
    installed: false,
    started: false,
    stopped: false,
    removed: false,
    dead: false,
    charmHash: '',
    leader: false,
    leaderSettingsVersion: -1,
    configHash: '',
    relations: {},
    retries: 0,
    nextRetryAt: 0,
    nextUpdateStatus: 0,
  };
}

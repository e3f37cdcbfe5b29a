/**
 * What a hook can see and what it has changed. The uniter builds a `HookSnapshot` before a
 * hook runs (a consistent view: reading twice gives the same answer unless this hook wrote
 * it) and collects a `HookChanges` buffer that is committed to the controller only if the
 * hook exits 0 (Juju's CommitHookChanges). Hook tools are pure functions over these two.
 */
import type { GoalState, OwnedSecretView, SecretOp } from '@sigil/api';

export type ConfigValue = string | number | boolean;

export interface RelationSnapshot {
  id: number;
  /** This unit's endpoint name, e.g. `db`. */
  endpoint: string;
  interface: string;
  role: 'provider' | 'requirer' | 'peer';
  /** The application on the other side (this unit's own application for a peer relation). */
  remoteApp: string;
  /** Remote units currently in scope (for peers: the other units of this application), sorted naturally. */
  members: string[];
  /** Unit bags this hook may read: this unit's own and every remote unit's, including departed ones. */
  unitData: Record<string, Record<string, string>>;
  /** Application bags by application name: this application's own and the remote application's. */
  appData: Record<string, Record<string, string>>;
}

export interface PortRange {
  from: number;
  to: number;
  protocol: 'tcp' | 'udp' | 'icmp';
  /** Endpoints the port is opened for; `['*']` means all. */
  endpoints: string[];
}

export interface StatusValue {
  status: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface HookSnapshot {
  unit: string;
  app: string;
  leader: boolean;
  modelName: string;
  modelUuid: string;
  machineId: string;
  privateAddress: string;
  publicAddress: string;
  /** Every option declared in config.yaml: its value, its default, or null when unset. */
  config: Record<string, ConfigValue | null>;
  relations: Record<number, RelationSnapshot>;
  leaderSettings: Record<string, string>;
  unitState: Record<string, string>;
  unitStatus: StatusValue;
  /** Application status as set by the leader (status-get --application). */
  appStatus: StatusValue;
  /** Workload status of every unit of this application (status-get --application). */
  appUnitStatuses: Record<string, StatusValue>;
  openedPorts: PortRange[];
  /** Set in relation hooks (JUJU_RELATION_ID); relation tools default to it. */
  hookRelationId?: number;
  remoteUnit?: string;
  remoteApp?: string;
  action?: { id: string; name: string; params: Record<string, unknown> };
  /** Secrets the unit manages or may read, with the content of the revisions it may read now. */
  secrets?: SecretEntry[];
  /** Set in secret hooks (JUJU_SECRET_ID). */
  hookSecretId?: string;
  /** The hook running (empty for actions and `exec`): add-metric works only in collect-metrics. */
  hookName?: string;
  /** The charm's metrics.yaml declarations, read for collect-metrics (add-metric checks keys against them). */
  metrics?: Record<string, { type: string; description: string }>;
  /** Storage attached to the unit, by id (issue 20). */
  storage?: Record<string, { name: string; kind: 'filesystem' | 'block'; location: string }>;
  /** Set in storage hooks (JUJU_STORAGE_ID). */
  hookStorageId?: string;
  /** The application's resources: the local path of each uploaded one (fetched once per fingerprint). */
  resources?: Record<string, { path?: string; error?: string }>;
}

/** One add-metric value (Juju's jujuc.Metric). */
export interface MetricValue {
  key: string;
  value: string;
  time: number;
  labels?: Record<string, string>;
}

/** What goal-state prints before formatting: names to `{status, since}` (since in ms since the epoch). */
export type GoalStateView = GoalState;

/** One secret as a hook sees it (see secrets.ts): how the unit stands towards it, and the content it may read. */
export interface SecretEntry {
  id: string;
  access: 'manage' | 'owner-app' | 'granted';
  /** The owner's label (managed and own application's secrets) or this consumer's. */
  label: string;
  /** The revision `secret-get` returns without --peek/--refresh (0: a consumer that never read it). */
  tracked: number;
  latest: number;
  /** Decrypted content by revision (key → base64 value), for the revisions the unit may read now. */
  content: Record<number, Record<string, string>>;
  /** Metadata of a managed secret (secret-info-get). */
  meta?: OwnedSecretView;
}

export interface HookChanges {
  /** Per relation id: keys written to this unit's bag; `null` deletes. */
  relationUnit: Map<number, Record<string, string | null>>;
  /** Per relation id: keys written to this application's bag (leader only); `null` deletes. */
  relationApp: Map<number, Record<string, string | null>>;
  unitStatus?: StatusValue;
  appStatus?: StatusValue;
  leaderSettings: Record<string, string | null>;
  unitState: Record<string, string | null>;
  openPorts: PortRange[];
  closePorts: PortRange[];
  applicationVersion?: string;
  actionResults: Record<string, unknown>;
  actionFailed?: string;
  /** Secret operations in the order the hook ran them (committed with everything else). */
  secrets?: SecretOp[];
  /** juju-reboot: after the hook succeeds, or now (the hook is killed and runs again after the reboot). */
  reboot?: 'after-hook' | 'now';
  /** add-metric values (collect-metrics only), sent when the hook succeeds. */
  metrics?: MetricValue[];
  /** storage-add requests by store name (committed with everything else). */
  storageAdd?: Record<string, number>;
}

export function emptyChanges(): HookChanges {
  return {
    relationUnit: new Map(),
    relationApp: new Map(),
    leaderSettings: {},
    unitState: {},
    openPorts: [],
    closePorts: [],
    actionResults: {},
  };
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** What a running hook context offers its tools besides data: immediate side channels. */
export interface HookToolEnv {
  snapshot: HookSnapshot;
  changes: HookChanges;
  /** juju-log: written to the unit's log at once (not buffered with the hook's changes). */
  log(level: LogLevel, message: string): void;
  /** action-log: a progress message visible while the action runs. */
  actionLog(message: string): void;
  /** goal-state: asks the controller (the agent's view holds only the relations' members in scope). */
  goalState?(): Promise<GoalStateView>;
  /** juju-reboot --now: kills the hook's process at once (its changes are dropped; it runs again after the reboot). */
  rebootNow?(): void;
  /**
   * Whether the agent can still vouch for the leadership its snapshot says this unit holds:
   * it has heard from the controller within half the lease, so it holds for 30 s more.
   */
  leaseHeld?(): boolean;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

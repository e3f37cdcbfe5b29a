/**
 * The machine agent's side of the API. The agent holds one `MachineView`, refreshes it
 * whenever the change feed says something that concerns it moved (receiving only the parts
 * that changed, as a `MachineViewDelta`), and reports back through small, idempotent calls.
 */

import type { SecretOp, UnitSecretsView } from './secrets.ts';
import type { UnitResourceView, UnitStorageView } from './storage.ts';

export type ConfigScalar = string | number | boolean;

export interface RelationView {
  id: number;
  life: string;
  endpoint: string;
  interface: string;
  role: 'provider' | 'requirer' | 'peer';
  scope: 'global' | 'container';
  remoteApp: string;
  /** Whether this unit is in the relation's scope on the controller. */
  inScope: boolean;
  /** Remote units in scope (only the same container for container scope), with their settings version. */
  members: Record<string, number>;
  /** Version of the remote application's bag (0 when never written). */
  remoteAppVersion: number;
  /**
   * The unit bags this unit may read (Juju's rules): its own, and those of the other
   * side's units (in a peer relation, its own application's other units).
   */
  unitData: Record<string, Record<string, string>>;
  /**
   * The application bags this unit may read: the other side's, and its own application's
   * in a peer relation or when it is the leader.
   */
  appData: Record<string, Record<string, string>>;
}

export interface OperationView {
  id: number;
  kind: 'action' | 'exec';
  name: string;
  params: Record<string, unknown>;
  status: string;
}

export interface UnitView {
  name: string;
  app: string;
  life: string;
  principal: string | null;
  subordinates: string[];
  charmUrl: string;
  charmHash: string;
  config: Record<string, ConfigScalar | null>;
  leader: boolean;
  leaderSettings: Record<string, string>;
  leaderSettingsVersion: number;
  resolved: '' | 'retry' | 'no-retry';
  relations: RelationView[];
  operations: OperationView[];
  workload: { status: string; message: string; byCharm: boolean };
  /** The application's status; only the leader reads it (`status-get --application`), others see `unknown`. */
  appStatus: { status: string; message: string };
  /** The workload status of every unit of the application, for the leader only (empty for others). */
  appUnitStatuses: Record<string, { status: string; message: string }>;
  agentStatus: string;
  ports: { from: number; to: number; protocol: 'tcp' | 'udp' | 'icmp'; endpoints: string[] }[];
  state: Record<string, string>;
  /** Secrets the unit manages or may read (metadata only); absent when there are none. */
  secrets?: UnitSecretsView;
  /** Storage attached or to attach to this unit (issue 20); absent when there is none. */
  storage?: UnitStorageView[];
  /** The application's resources (issue 20); absent when its charm declares none. */
  resources?: UnitResourceView[];
}

/**
 * Leadership is a lease, as in Juju: the leader's machine agent holds it while connected and
 * for this long after it leaves; then another unit whose agent is connected is elected. An
 * agent answers is-leader true only while it has heard from the controller within half of
 * it, so a true answer holds for at least 30 s more (Juju's guarantee).
 */
export const LEADERSHIP_LEASE_MS = 60_000;

/** The model's proxy keys, with Juju's names. */
export const PROXY_KEYS = ['juju-http-proxy', 'juju-https-proxy', 'juju-ftp-proxy', 'juju-no-proxy', 'apt-http-proxy', 'apt-https-proxy', 'apt-ftp-proxy', 'apt-no-proxy'] as const;

/** The model's proxy settings as agents receive them (empty: none). */
export type ProxySettings = Record<(typeof PROXY_KEYS)[number], string>;

export interface MachineView {
  revision: number;
  model: { name: string; uuid: string; life: string; updateStatusInterval: string; retryHooks: boolean; proxy: ProxySettings };
  machine: {
    id: string;
    life: string;
    address: string;
    hostname: string;
    /** The model's SSH keys (authorized_keys lines): the agent keeps root's authorized_keys in step. */
    sshKeys: string[];
    /** An operator asked for a new credential: the agent fetches it and replaces its own. */
    rotateCredential: boolean;
    /** Inventory collections asked of this machine's units and not yet answered: unit → request number (absent when none). */
    auditRequests?: Record<string, number>;
    /** LXC containers placed on this machine (`N/lxc/M`): its agent creates and destroys them (absent when none). */
    containers?: ContainerView[];
  };
  units: UnitView[];
}

/** A container on the agent's machine, as its host's agent sees it. */
export interface ContainerView {
  id: string;
  life: string;
  /** Created already (it has an instance); otherwise the host's agent creates it. */
  provisioned: boolean;
  /** Principal units still on it: a dying container is destroyed once none is left. */
  units: number;
  constraints: string;
}

/** A unit's view without its relations: one part of a `MachineViewDelta`. */
export type UnitCore = Omit<UnitView, 'relations'>;

/**
 * The answer to `GET /api/agent/view?known=<hash>,…`: the machine view cut into parts (each
 * unit's core, and each of its relations), every part with a hash of its content. A part
 * whose hash is in `known` comes without its body: the agent already holds it. With no
 * `known`, every body is there (a snapshot). Parts are listed in view order.
 */
export interface MachineViewDelta {
  revision: number;
  model: MachineView['model'];
  machine: MachineView['machine'];
  units: UnitPart[];
}

export interface UnitPart {
  name: string;
  hash: string;
  core?: UnitCore;
  relations: RelationPart[];
}

export interface RelationPart {
  id: number;
  hash: string;
  view?: RelationView;
}

export interface HookCommit {
  unit: string;
  hook: string;
  relationUnit: Record<string, Record<string, string | null>>;
  relationApp: Record<string, Record<string, string | null>>;
  unitStatus?: { status: string; message: string; data?: Record<string, unknown> };
  appStatus?: { status: string; message: string };
  leaderSettings: Record<string, string | null>;
  unitState: Record<string, string | null>;
  openPorts: { from: number; to: number; protocol: 'tcp' | 'udp' | 'icmp'; endpoints: string[] }[];
  closePorts: { from: number; to: number; protocol: 'tcp' | 'udp' | 'icmp'; endpoints: string[] }[];
  applicationVersion?: string;
  /** secret-add/set/grant/revoke/remove and consumer tracking, in the order the hook ran them. */
  secrets?: SecretOp[];
  /** storage-add: more instances of the named stores for this unit (issue 20). */
  storageAdd?: Record<string, number>;
  /**
   * The agent is idle once this commits (with the workload status Juju sets after the hook):
   * one request and one transaction per hook instead of two.
   */
  idle?: { workload?: { status: string; message: string } };
}

export interface CommitResult {
  /** New versions of application bags this commit wrote, by relation id (the writer never gets -changed for its own writes). */
  appVersions: Record<string, number>;
}

export interface AgentStatusReport {
  unit: string;
  agent: 'idle' | 'executing' | 'error' | 'rebooting';
  message: string;
  data?: Record<string, unknown>;
  /** Set when this report starts the retry (or skip) a `resolve` asked for, which consumes it. */
  resolvedAck?: boolean;
  /** A workload status Juju itself sets around hooks (installing, stopping, terminated, unknown after start). */
  workload?: { status: string; message: string };
}

export interface LogLine {
  entity: string;
  level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  module: string;
  message: string;
  at: number;
}

export interface OperationResult {
  id: number;
  status: 'completed' | 'failed';
  message: string;
  results: Record<string, unknown>;
}

export interface OperationDoc {
  id: number;
  unit: string;
  kind: 'action' | 'exec';
  name: string;
  params: Record<string, unknown>;
  status: string;
  message: string;
  results: Record<string, unknown>;
  log: { at: number; message: string }[];
  enqueued: number;
  started?: number;
  completed?: number;
}

/**
 * A unit's goal state (Juju's uniter GoalStates): every alive or dying unit of its
 * application, and per local endpoint of each non-peer relation, the related application
 * (relation status) and its units (workload status, `dying` while dying). `since` is ms
 * since the epoch.
 */
export interface GoalState {
  units: Record<string, { status: string; since?: number }>;
  relations: Record<string, Record<string, { status: string; since?: number }>>;
}

/**
 * A controller process serving the store (`sigil enable-ha` runs several): where clients and
 * machine agents reach it. `GET /api/controller` lists them; agents ask
 * `GET /api/agent/controllers` for their URLs and move to another when one stops answering.
 */
export interface ControllerReplica {
  id: string;
  /** Where the CLI and the GUI reach it. */
  url: string;
  /** Where machine agents reach it. */
  agentUrl: string;
  alive: boolean;
  /** On the host where the provider makes machines (false: placed elsewhere with `enable-ha --to`). */
  home?: boolean;
}

/** `GET /api/agent/controllers`: the agent-facing URLs of every live replica, the answering one first. */
export interface AgentControllers {
  urls: string[];
}

/**
 * A replica's own file in the controller directory (pid files, its log): `controller.log` for
 * the first, `controller-1.log` for replica 1, and so on. The CLI and the controller both name them so.
 */
export const replicaFile = (name: string, replica: number): string => (replica === 0 ? name : name.replace(/\.(\w+)$/, `-${replica}.$1`));

/** A controller address as agents and the CLI keep it: `u` without a trailing slash when it is an https URL of a server (no path, query or credentials), else undefined. */
export function httpsUrl(u: unknown): string | undefined {
  if (typeof u !== 'string' || u.length > 2048) return undefined;
  try {
    const url = new URL(u);
    const plain = url.protocol === 'https:' && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
    return plain ? u.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

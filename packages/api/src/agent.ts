/**
 * The machine agent's side of the API. The agent holds one `MachineView`, refreshes it
 * whenever the change feed says something that concerns it moved (receiving only the parts
 * that changed, as a `MachineViewDelta`), and reports back through small, idempotent calls.
 */

import { Type, type Static, type TString } from '@sinclair/typebox';
import type { ConfigValue } from '@sigil/core';
import { sameType } from './contract.ts';
import { SecretOp, UnitSecretsView } from './secrets.ts';
import { UnitResourceView, UnitStorageView } from './storage.ts';

/** A charm config value: core's `ConfigValue`. */
export const ConfigScalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export type ConfigScalar = Static<typeof ConfigScalar>;
sameType<ConfigScalar, ConfigValue>();

/** A workload or application status without its data. */
const StatusLine = Type.Object({ status: Type.String(), message: Type.String() }, { additionalProperties: false });

/** A port range a unit opens (open-port), on some of its endpoints or all (empty). */
const Port = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp')]),
  endpoints: Type.Array(Type.String()),
}, { additionalProperties: false });

/** A relation or leader-settings bag. */
const Bag = Type.Record(Type.String(), Type.String());

export const RelationView = Type.Object({
  id: Type.Integer(),
  life: Type.String(),
  endpoint: Type.String(),
  interface: Type.String(),
  role: Type.Union([Type.Literal('provider'), Type.Literal('requirer'), Type.Literal('peer')]),
  scope: Type.Union([Type.Literal('global'), Type.Literal('container')]),
  remoteApp: Type.String(),
  /** Whether this unit is in the relation's scope on the controller. */
  inScope: Type.Boolean(),
  /** Remote units in scope (only the same container for container scope), with their settings version. */
  members: Type.Record(Type.String(), Type.Integer()),
  /** Version of the remote application's bag (0 when never written). */
  remoteAppVersion: Type.Integer(),
  /**
   * The unit bags this unit may read (Juju's rules): its own, and those of the other
   * side's units (in a peer relation, its own application's other units).
   */
  unitData: Type.Record(Type.String(), Bag),
  /**
   * The application bags this unit may read: the other side's, and its own application's
   * in a peer relation or when it is the leader.
   */
  appData: Type.Record(Type.String(), Bag),
}, { additionalProperties: false });
export type RelationView = Static<typeof RelationView>;

export const OperationView = Type.Object({
  id: Type.Integer(),
  kind: Type.Union([Type.Literal('action'), Type.Literal('exec')]),
  name: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
}, { additionalProperties: false });
export type OperationView = Static<typeof OperationView>;

/** A unit's view without its relations: one part of a `MachineViewDelta`. */
export const UnitCore = Type.Object({
  name: Type.String(),
  app: Type.String(),
  life: Type.String(),
  principal: Type.Union([Type.String(), Type.Null()]),
  subordinates: Type.Array(Type.String()),
  charmUrl: Type.String(),
  charmHash: Type.String(),
  config: Type.Record(Type.String(), Type.Union([ConfigScalar, Type.Null()])),
  leader: Type.Boolean(),
  leaderSettings: Bag,
  leaderSettingsVersion: Type.Integer(),
  resolved: Type.Union([Type.Literal(''), Type.Literal('retry'), Type.Literal('no-retry')]),
  operations: Type.Array(OperationView),
  workload: Type.Object({ status: Type.String(), message: Type.String(), byCharm: Type.Boolean() }, { additionalProperties: false }),
  /** The application's status; only the leader reads it (`status-get --application`), others see `unknown`. */
  appStatus: StatusLine,
  /** The workload status of every unit of the application, for the leader only (empty for others). */
  appUnitStatuses: Type.Record(Type.String(), StatusLine),
  agentStatus: Type.String(),
  ports: Type.Array(Port),
  state: Bag,
  /** Secrets the unit manages or may read (metadata only); absent when there are none. */
  secrets: Type.Optional(UnitSecretsView),
  /** Storage attached or to attach to this unit (issue 20); absent when there is none. */
  storage: Type.Optional(Type.Array(UnitStorageView)),
  /** The application's resources (issue 20); absent when its charm declares none. */
  resources: Type.Optional(Type.Array(UnitResourceView)),
}, { additionalProperties: false });
export type UnitCore = Static<typeof UnitCore>;

export const UnitView = Type.Object({ ...UnitCore.properties, relations: Type.Array(RelationView) }, { additionalProperties: false });
export type UnitView = Static<typeof UnitView>;

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
export const ProxySettings = Type.Object(
  Object.fromEntries(PROXY_KEYS.map((k) => [k, Type.String()])) as Record<(typeof PROXY_KEYS)[number], TString>,
  { additionalProperties: false },
);
export type ProxySettings = Static<typeof ProxySettings>;

/** A container on the agent's machine, as its host's agent sees it. */
export const ContainerView = Type.Object({
  id: Type.String(),
  life: Type.String(),
  /** Created already (it has an instance); otherwise the host's agent creates it. */
  provisioned: Type.Boolean(),
  /** Principal units still on it: a dying container is destroyed once none is left. */
  units: Type.Integer({ minimum: 0 }),
  constraints: Type.String(),
}, { additionalProperties: false });
export type ContainerView = Static<typeof ContainerView>;

const ModelPart = Type.Object({
  name: Type.String(),
  uuid: Type.String(),
  life: Type.String(),
  updateStatusInterval: Type.String(),
  retryHooks: Type.Boolean(),
  proxy: ProxySettings,
}, { additionalProperties: false });

const MachinePart = Type.Object({
  id: Type.String(),
  life: Type.String(),
  address: Type.String(),
  hostname: Type.String(),
  /** The model's SSH keys (authorized_keys lines): the agent keeps root's authorized_keys in step. */
  sshKeys: Type.Array(Type.String()),
  /** An operator asked for a new credential: the agent fetches it and replaces its own. */
  rotateCredential: Type.Boolean(),
  /** Inventory collections asked of this machine's units and not yet answered: unit → request number (absent when none). */
  auditRequests: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  /** LXC containers placed on this machine (`N/lxc/M`): its agent creates and destroys them (absent when none). */
  containers: Type.Optional(Type.Array(ContainerView)),
}, { additionalProperties: false });

export const MachineView = Type.Object({
  revision: Type.Integer({ minimum: 0 }),
  model: ModelPart,
  machine: MachinePart,
  units: Type.Array(UnitView),
}, { additionalProperties: false });
export type MachineView = Static<typeof MachineView>;

export const RelationPart = Type.Object({
  id: Type.Integer(),
  hash: Type.String(),
  view: Type.Optional(RelationView),
}, { additionalProperties: false });
export type RelationPart = Static<typeof RelationPart>;

export const UnitPart = Type.Object({
  name: Type.String(),
  hash: Type.String(),
  core: Type.Optional(UnitCore),
  relations: Type.Array(RelationPart),
}, { additionalProperties: false });
export type UnitPart = Static<typeof UnitPart>;

/**
 * The answer to `GET /api/agent/view?known=<hash>,…`: the machine view cut into parts (each
 * unit's core, and each of its relations), every part with a hash of its content. A part
 * whose hash is in `known` comes without its body: the agent already holds it. With no
 * `known`, every body is there (a snapshot). Parts are listed in view order.
 */
export const MachineViewDelta = Type.Object({
  revision: Type.Integer({ minimum: 0 }),
  model: ModelPart,
  machine: MachinePart,
  units: Type.Array(UnitPart),
}, { additionalProperties: false });
export type MachineViewDelta = Static<typeof MachineViewDelta>;

/** Changes to a bag: a value, or null to delete the key. */
const BagChanges = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));
const Status = Type.Object({ status: Type.String(), message: Type.String(), data: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });

/** What a hook changed, committed in one request when it ends. */
export const HookCommit = Type.Object({
  unit: Type.String(),
  hook: Type.String(),
  relationUnit: Type.Record(Type.String(), BagChanges),
  relationApp: Type.Record(Type.String(), BagChanges),
  unitStatus: Type.Optional(Status),
  appStatus: Type.Optional(Status),
  leaderSettings: BagChanges,
  unitState: BagChanges,
  openPorts: Type.Array(Port),
  closePorts: Type.Array(Port),
  applicationVersion: Type.Optional(Type.String()),
  /** secret-add/set/grant/revoke/remove and consumer tracking, in the order the hook ran them. */
  secrets: Type.Optional(Type.Array(SecretOp, { maxItems: 1000 })),
  /** storage-add: more instances of the named stores for this unit (issue 20). */
  storageAdd: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Integer({ minimum: 1, maximum: 1000 }))),
  /**
   * The agent is idle once this commits (with the workload status Juju sets after the hook):
   * one request and one transaction per hook instead of two.
   */
  idle: Type.Optional(Type.Object({ workload: Type.Optional(StatusLine) }, { additionalProperties: false })),
}, { additionalProperties: false });
export type HookCommit = Static<typeof HookCommit>;

export const CommitResult = Type.Object({
  /** New versions of application bags this commit wrote, by relation id (the writer never gets -changed for its own writes). */
  appVersions: Type.Record(Type.String(), Type.Integer()),
}, { additionalProperties: false });
export type CommitResult = Static<typeof CommitResult>;

export const AgentStatusReport = Type.Object({
  unit: Type.String(),
  agent: Type.Union([Type.Literal('idle'), Type.Literal('executing'), Type.Literal('error'), Type.Literal('rebooting')]),
  message: Type.String(),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** Set when this report starts the retry (or skip) a `resolve` asked for, which consumes it. */
  resolvedAck: Type.Optional(Type.Boolean()),
  /** A workload status Juju itself sets around hooks (installing, stopping, terminated, unknown after start). */
  workload: Type.Optional(Type.Object({ status: Type.String(), message: Type.String() })),
}, { additionalProperties: false });
export type AgentStatusReport = Static<typeof AgentStatusReport>;

export const LogLine = Type.Object({
  entity: Type.String(),
  level: Type.Union([Type.Literal('TRACE'), Type.Literal('DEBUG'), Type.Literal('INFO'), Type.Literal('WARNING'), Type.Literal('ERROR')]),
  module: Type.String(),
  message: Type.String(),
  at: Type.Number(),
});
export type LogLine = Static<typeof LogLine>;

export const OperationResult = Type.Object({
  id: Type.Integer(),
  status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
  message: Type.String(),
  results: Type.Record(Type.String(), Type.Unknown()),
}, { additionalProperties: false });
export type OperationResult = Static<typeof OperationResult>;

export const OperationDoc = Type.Object({
  id: Type.Integer(),
  unit: Type.String(),
  kind: Type.Union([Type.Literal('action'), Type.Literal('exec')]),
  name: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  message: Type.String(),
  results: Type.Record(Type.String(), Type.Unknown()),
  log: Type.Array(Type.Object({ at: Type.Number(), message: Type.String() }, { additionalProperties: false })),
  enqueued: Type.Number(),
  started: Type.Optional(Type.Number()),
  completed: Type.Optional(Type.Number()),
}, { additionalProperties: false });
export type OperationDoc = Static<typeof OperationDoc>;

const GoalEntry = Type.Object({ status: Type.String(), since: Type.Optional(Type.Number()) }, { additionalProperties: false });

/**
 * A unit's goal state (Juju's uniter GoalStates): every alive or dying unit of its
 * application, and per local endpoint of each non-peer relation, the related application
 * (relation status) and its units (workload status, `dying` while dying). `since` is ms
 * since the epoch.
 */
export const GoalState = Type.Object({
  units: Type.Record(Type.String(), GoalEntry),
  relations: Type.Record(Type.String(), Type.Record(Type.String(), GoalEntry)),
}, { additionalProperties: false });
export type GoalState = Static<typeof GoalState>;

/**
 * A controller process serving the store (`sigil enable-ha` runs several): where clients and
 * machine agents reach it. `GET /api/controller` lists them; agents ask
 * `GET /api/agent/controllers` for their URLs and move to another when one stops answering.
 */
export const ControllerReplica = Type.Object({
  id: Type.String(),
  /** Where the CLI and the GUI reach it. */
  url: Type.String(),
  /** Where machine agents reach it. */
  agentUrl: Type.String(),
  alive: Type.Boolean(),
  /** On the host where the provider makes machines (false: placed elsewhere with `enable-ha --to`). */
  home: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type ControllerReplica = Static<typeof ControllerReplica>;

/** `GET /api/agent/controllers`: the agent-facing URLs of every live replica, the answering one first. */
export const AgentControllers = Type.Object({ urls: Type.Array(Type.String()) }, { additionalProperties: false });
export type AgentControllers = Static<typeof AgentControllers>;

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

import type { ProxySettings, UnitView } from '@sigil/api';
import type { HookSnapshot, RelationSnapshot } from '../hook-tools/context.ts';
import type { HookInfo } from '../resolver/state.ts';
import { charmProxyEnv } from '../proxy.ts';

export interface MachineInfo {
  modelName: string;
  modelUuid: string;
  machineId: string;
  address: string;
  /** The model's proxy keys: hooks get the juju-* ones as JUJU_CHARM_*_PROXY. */
  proxy?: ProxySettings;
}

/** The consistent view one hook's tools read, taken when the hook starts. */
export function buildSnapshot(u: UnitView, m: MachineInfo, hook: HookInfo | undefined, action?: HookSnapshot['action']): HookSnapshot {
  const relations: Record<number, RelationSnapshot> = {};
  for (const r of u.relations) {
    relations[r.id] = {
      id: r.id,
      endpoint: r.endpoint,
      interface: r.interface,
      role: r.role,
      remoteApp: r.remoteApp,
      members: Object.keys(r.members).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      unitData: r.unitData,
      appData: r.appData,
    };
  }
  const snap: HookSnapshot = {
    unit: u.name,
    app: u.app,
    leader: u.leader,
    modelName: m.modelName,
    modelUuid: m.modelUuid,
    machineId: m.machineId,
    privateAddress: m.address,
    publicAddress: m.address,
    config: u.config,
    relations,
    leaderSettings: u.leaderSettings,
    unitState: u.state,
    unitStatus: { status: u.workload.status, message: u.workload.message },
    appStatus: u.appStatus,
    appUnitStatuses: u.appUnitStatuses,
    openedPorts: u.ports,
  };
  if (hook?.relationId !== undefined) snap.hookRelationId = hook.relationId;
  if (hook?.remoteUnit) snap.remoteUnit = hook.remoteUnit;
  if (hook?.remoteApp) snap.remoteApp = hook.remoteApp;
  if (action) snap.action = action;
  if (hook?.secretId !== undefined) snap.hookSecretId = hook.secretId;
  return snap;
}

export interface EnvInput {
  unit: UnitView;
  machine: MachineInfo;
  charmDir: string;
  toolsDir: string;
  socket: string;
  contextId: string;
  /** Every controller's address, the one in use first. */
  apiAddresses: readonly string[];
  hook?: HookInfo;
  action?: { id: number; name: string };
  /** Storage hooks: the storage and where it is. */
  storage?: { id: string; kind: string; location: string };
}

/** Juju's hook environment (worker/uniter/runner/context/context.go HookVars). */
export function hookEnv(i: EnvInput): Record<string, string> {
  const dispatchPath = i.action ? `actions/${i.action.name}` : i.hook ? `hooks/${i.hook.name}` : '';
  const env: Record<string, string> = {
    PATH: `${i.toolsDir}:${process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    TERM: 'tmux-256color',
    DEBIAN_FRONTEND: 'noninteractive',
    APT_LISTCHANGES_FRONTEND: 'none',
    CHARM_DIR: i.charmDir,
    JUJU_CHARM_DIR: i.charmDir,
    JUJU_CONTEXT_ID: i.contextId,
    JUJU_HOOK_NAME: i.hook?.name ?? '',
    JUJU_DISPATCH_PATH: dispatchPath,
    JUJU_AGENT_SOCKET_ADDRESS: i.socket,
    JUJU_AGENT_SOCKET_NETWORK: 'unix',
    JUJU_UNIT_NAME: i.unit.name,
    JUJU_MODEL_NAME: i.machine.modelName,
    JUJU_MODEL_UUID: i.machine.modelUuid,
    // Space-separated host:port, as Juju lists every controller.
    JUJU_API_ADDRESSES: i.apiAddresses.map((u) => u.replace(/^https?:\/\//, '')).join(' '),
    JUJU_MACHINE_ID: i.machine.machineId,
    JUJU_AVAILABILITY_ZONE: '',
    JUJU_PRINCIPAL_UNIT: i.unit.principal ?? '',
    JUJU_VERSION: '3.6.0',
    JUJU_SLA: 'unsupported',
    CLOUD_API_VERSION: '',
    // Juju exports these always, empty when the model sets no juju-*-proxy.
    ...charmProxyEnv(i.machine.proxy),
    // The Node the agent runs on: TypeScript charms' dispatch runs their bundle with it.
    SIGIL_NODE: process.execPath,
  };
  const h = i.hook;
  if (h?.relationId !== undefined && h.endpoint !== undefined) {
    env.JUJU_RELATION = h.endpoint;
    env.JUJU_RELATION_ID = `${h.endpoint}:${h.relationId}`;
    env.JUJU_REMOTE_APP = h.remoteApp ?? '';
    env.JUJU_REMOTE_UNIT = h.remoteUnit ?? '';
    if (h.departingUnit) env.JUJU_DEPARTING_UNIT = h.departingUnit;
  }
  if (h?.secretId !== undefined) {
    env.JUJU_SECRET_ID = `secret:${h.secretId}`;
    env.JUJU_SECRET_LABEL = h.secretLabel ?? '';
    if (h.secretRevision !== undefined && (h.name === 'secret-expired' || h.name === 'secret-remove')) env.JUJU_SECRET_REVISION = String(h.secretRevision);
  }
  if (i.storage) {
    env.JUJU_STORAGE_ID = i.storage.id;
    env.JUJU_STORAGE_LOCATION = i.storage.location;
    env.JUJU_STORAGE_KIND = i.storage.kind;
  }
  if (i.action) {
    env.JUJU_ACTION_NAME = i.action.name;
    env.JUJU_ACTION_UUID = String(i.action.id);
    env.JUJU_ACTION_TAG = `action-${i.action.id}`;
  }
  return env;
}

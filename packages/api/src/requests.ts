import { Type, type Static } from '@sinclair/typebox';

/**
 * Request bodies of the client API, as TypeBox schemas: the controller validates with
 * them at the edge, the CLI (and later the GUI) builds requests typed by them.
 */
export const DeployRequest = Type.Object({
  app: Type.String({ minLength: 1 }),
  charmUrl: Type.String({ minLength: 1 }),
  numUnits: Type.Integer({ minimum: 0 }),
  config: Type.Record(Type.String(), Type.Unknown()),
  constraints: Type.String(),
  to: Type.Array(Type.String()),
  /** `--storage NAME=POOL,SIZE,COUNT`, parsed (issue 20). */
  storage: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Object({
    pool: Type.Optional(Type.String({ maxLength: 100 })),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  }, { additionalProperties: false }))),
  /** `--resource NAME=FILE`: each file's content in base64 (issue 20). */
  resources: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String())),
}, { additionalProperties: false });
export type DeployRequest = Static<typeof DeployRequest>;

export const ConfigRequest = Type.Object({
  set: Type.Record(Type.String(), Type.Unknown()),
  reset: Type.Array(Type.String()),
}, { additionalProperties: false });
export type ConfigRequest = Static<typeof ConfigRequest>;

export const AddUnitsRequest = Type.Object({ n: Type.Integer({ minimum: 1 }), to: Type.Array(Type.String()) }, { additionalProperties: false });
export type AddUnitsRequest = Static<typeof AddUnitsRequest>;

export const NamesRequest = Type.Object({ names: Type.Array(Type.String(), { minItems: 1 }), force: Type.Optional(Type.Boolean()), destroyStorage: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type NamesRequest = Static<typeof NamesRequest>;

export const RelateRequest = Type.Object({ a: Type.String({ minLength: 1 }), b: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
export type RelateRequest = Static<typeof RelateRequest>;

export const ExposeRequest = Type.Object({ exposed: Type.Boolean() }, { additionalProperties: false });
export type ExposeRequest = Static<typeof ExposeRequest>;

export const ResolveRequest = Type.Object({ unit: Type.String(), retry: Type.Boolean() }, { additionalProperties: false });
export type ResolveRequest = Static<typeof ResolveRequest>;

export const ActionRequest = Type.Object({ unit: Type.String(), name: Type.String(), params: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false });
export type ActionRequest = Static<typeof ActionRequest>;

export const ExecRequest = Type.Object({ units: Type.Array(Type.String(), { minItems: 1 }), command: Type.String({ minLength: 1 }), timeoutMs: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export type ExecRequest = Static<typeof ExecRequest>;

export const ModelRequest = Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false });
export type ModelRequest = Static<typeof ModelRequest>;

export const AddMachinesRequest = Type.Object({
  n: Type.Integer({ minimum: 1 }),
  constraints: Type.String(),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** `add-machine lxc:N`: the machines are LXC containers on machine N (ids `N/lxc/M`). */
  container: Type.Optional(Type.Object({ type: Type.Literal('lxc'), parent: Type.String({ pattern: '^[0-9]+$' }) }, { additionalProperties: false })),
}, { additionalProperties: false });
export type AddMachinesRequest = Static<typeof AddMachinesRequest>;

/** `sigil add-machine ssh:…`: a host that passed its checks, registered before its agent is installed. */
export const EnlistMachineRequest = Type.Object({
  target: Type.String({ minLength: 1, maxLength: 300, pattern: '^[^\\s\\x00-\\x1f]+$' }),
  address: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' }),
  hostname: Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9._-]*$' }),
  hardware: Type.Object({
    arch: Type.String({ maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' }),
    cores: Type.Integer({ minimum: 0, maximum: 100000 }),
    mem: Type.Integer({ minimum: 0 }),
    disk: Type.Integer({ minimum: 0 }),
    /** The OS the host runs, as Juju's base (os-release ID and VERSION_ID). */
    base: Type.Optional(Type.Object({
      name: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9._-]+$' }),
      channel: Type.String({ maxLength: 32, pattern: '^[A-Za-z0-9._/-]*$' }),
    }, { additionalProperties: false })),
  }, { additionalProperties: false }),
  init: Type.Union([Type.Literal('systemd'), Type.Literal('supervised')]),
}, { additionalProperties: false });
export type EnlistMachineRequest = Static<typeof EnlistMachineRequest>;

/** The enlisted machine and what its agent needs: given to the enlisting client only. */
export const EnlistMachineResponse = Type.Object({
  machine: Type.String(),
  token: Type.String(),
  controllerUrl: Type.String(),
  caCert: Type.String(),
}, { additionalProperties: false });
export type EnlistMachineResponse = Static<typeof EnlistMachineResponse>;

export const AnnotationsRequest = Type.Record(Type.String(), Type.String());
export type AnnotationsRequest = Static<typeof AnnotationsRequest>;
export const ConstraintsRequest = Type.Object({ constraints: Type.String() }, { additionalProperties: false });
export type ConstraintsRequest = Static<typeof ConstraintsRequest>;

/** `sigil model-config k=v`: values as typed, checked by the model's rules for each key. */
export const ModelConfigRequest = Type.Record(Type.String(), Type.String());
export type ModelConfigRequest = Static<typeof ModelConfigRequest>;

/** `sigil refresh --path`: the application moves to this uploaded charm. */
export const RefreshRequest = Type.Object({ charmUrl: Type.String() }, { additionalProperties: false });
export type RefreshRequest = Static<typeof RefreshRequest>;

/** Messages on the watch WebSocket: the revision moved, with what changed; or resync. */
export interface WatchMessage {
  rev: number;
  changes?: { rev: number; model: string; kind: string; key: string; op: string }[];
  resync?: boolean;
  /** A machine's agent connected or left (people's watchers only; presence is not in the change log). */
  presence?: boolean;
  /**
   * The set of controller replicas changed (one joined, left or moved): machine agents ask
   * `GET /api/agent/controllers` again, so an agent connected before a replica joined can
   * move to it too.
   */
  controllers?: boolean;
}

/** `sigil migrate-agents`: where every machine's agent is to dial the controller from now on. */
export const MigrateAgentsRequest = Type.Object({ url: Type.String({ minLength: 1, maxLength: 300 }) }, { additionalProperties: false });
export type MigrateAgentsRequest = Static<typeof MigrateAgentsRequest>;


import { Type, type Static } from '@sinclair/typebox';
import { SecretOpSchema } from './secrets.ts';

/** Request bodies of the agent API, validated at the controller's edge (types in agent.ts). */
const Port = Type.Object({ from: Type.Integer(), to: Type.Integer(), protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp')]), endpoints: Type.Array(Type.String()) });
const Bag = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));
const Status = Type.Object({ status: Type.String(), message: Type.String(), data: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });

export const HookCommitSchema = Type.Object({
  unit: Type.String(),
  hook: Type.String(),
  relationUnit: Type.Record(Type.String(), Bag),
  relationApp: Type.Record(Type.String(), Bag),
  unitStatus: Type.Optional(Status),
  appStatus: Type.Optional(Status),
  leaderSettings: Bag,
  unitState: Bag,
  openPorts: Type.Array(Port),
  closePorts: Type.Array(Port),
  applicationVersion: Type.Optional(Type.String()),
  secrets: Type.Optional(Type.Array(SecretOpSchema, { maxItems: 1000 })),
  storageAdd: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Integer({ minimum: 1, maximum: 1000 }))),
  idle: Type.Optional(Type.Object({ workload: Type.Optional(Type.Object({ status: Type.String(), message: Type.String() }, { additionalProperties: false })) }, { additionalProperties: false })),
}, { additionalProperties: false });

export const AgentStatusSchema = Type.Object({
  unit: Type.String(),
  agent: Type.Union([Type.Literal('idle'), Type.Literal('executing'), Type.Literal('error'), Type.Literal('rebooting')]),
  message: Type.String(),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  resolvedAck: Type.Optional(Type.Boolean()),
  workload: Type.Optional(Type.Object({ status: Type.String(), message: Type.String() })),
}, { additionalProperties: false });

export const ScopeSchema = Type.Object({ unit: Type.String(), relation: Type.Integer(), enter: Type.Boolean() }, { additionalProperties: false });
export const SettledSchema = Type.Object({ unit: Type.String(), revision: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const UnitRefSchema = Type.Object({ unit: Type.String() }, { additionalProperties: false });
export const OperationResultSchema = Type.Object({
  id: Type.Integer(),
  status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
  message: Type.String(),
  results: Type.Record(Type.String(), Type.Unknown()),
}, { additionalProperties: false });
export const ActionLogSchema = Type.Object({ message: Type.String() }, { additionalProperties: false });
export const LogLinesSchema = Type.Object({
  lines: Type.Array(Type.Object({
    entity: Type.String(),
    level: Type.Union(['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR'].map((l) => Type.Literal(l))),
    module: Type.String(),
    message: Type.String(),
    at: Type.Number(),
  })),
}, { additionalProperties: false });

/** Part hashes are 16 hex digits; an agent holding more parts than fit asks for a snapshot. */
export const VIEW_HASH_LENGTH = 16;
export const VIEW_MAX_KNOWN = 400;
export const ViewQuerySchema = Type.Object({
  known: Type.Optional(Type.String({ maxLength: VIEW_MAX_KNOWN * (VIEW_HASH_LENGTH + 1), pattern: '^[0-9a-f,]*$' })),
}, { additionalProperties: false });
export type ViewQuery = Static<typeof ViewQuerySchema>;

/** A host's agent about one of its containers (`N/lxc/M`). */
export const ContainerRefSchema = Type.Object({ id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }) }, { additionalProperties: false });
export type ContainerRef = Static<typeof ContainerRefSchema>;
export const ContainerProvisionedSchema = Type.Object({
  id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }),
  instanceId: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' }),
  hostname: Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9._-]*$' }),
}, { additionalProperties: false });
export type ContainerProvisioned = Static<typeof ContainerProvisionedSchema>;
export const ContainerFailedSchema = Type.Object({ id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }), message: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });
export type ContainerFailed = Static<typeof ContainerFailedSchema>;

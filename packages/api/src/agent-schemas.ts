import { Type } from '@sinclair/typebox';
import { LogLine } from './agent.ts';

/** Request bodies and queries of the agent API, validated at the controller's edge (the reports' types are in agent.ts). */
export const ScopeSchema = Type.Object({ unit: Type.String(), relation: Type.Integer(), enter: Type.Boolean() }, { additionalProperties: false });
export const SettledSchema = Type.Object({ unit: Type.String(), revision: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const UnitRefSchema = Type.Object({ unit: Type.String() }, { additionalProperties: false });
export const ActionLogSchema = Type.Object({ message: Type.String() }, { additionalProperties: false });
export const LogLinesSchema = Type.Object({ lines: Type.Array(LogLine) }, { additionalProperties: false });

/** Part hashes are 16 hex digits; an agent holding more parts than fit asks for a snapshot. */
export const VIEW_HASH_LENGTH = 16;
export const VIEW_MAX_KNOWN = 400;
export const ViewQuerySchema = Type.Object({
  known: Type.Optional(Type.String({ maxLength: VIEW_MAX_KNOWN * (VIEW_HASH_LENGTH + 1), pattern: '^[0-9a-f,]*$' })),
}, { additionalProperties: false });

/** A host's agent about one of its containers (`N/lxc/M`). */
export const ContainerRefSchema = Type.Object({ id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }) }, { additionalProperties: false });
export const ContainerProvisionedSchema = Type.Object({
  id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }),
  instanceId: Type.String({ minLength: 1, maxLength: 200 }),
  address: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' }),
  hostname: Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9._-]*$' }),
}, { additionalProperties: false });
export const ContainerFailedSchema = Type.Object({ id: Type.String({ pattern: '^[0-9]+/lxc/[0-9]+$' }), message: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });

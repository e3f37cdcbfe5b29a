import { Type, type Static } from '@sinclair/typebox';

/** One call in the audit trail, as `GET /api/audit` answers it. Never a request body: only what was called, on what, by whom. */
export const AuditRecord = Type.Object({
  id: Type.Integer(),
  /** Epoch milliseconds. */
  at: Type.Integer(),
  /** The user's name, `machine-N` (with its model) for an agent, or `-` for no valid credential. */
  user: Type.String(),
  address: Type.String(),
  method: Type.String(),
  /** The matched route pattern (`POST /api/models/:model/applications`), or the raw path of an unmatched call. */
  route: Type.String(),
  model: Type.String(),
  summary: Type.String(),
  /** The HTTP status the call got. */
  status: Type.Integer(),
}, { additionalProperties: false });
export type AuditRecord = Static<typeof AuditRecord>;

/**
 * The controller's configuration (`sigil controller-config`): how much of the audit trail
 * it keeps, by size (`100M`) and by age (`2160h`).
 */
export const ControllerConfig = Type.Object({
  'audit-log-max-size': Type.String(),
  'audit-log-max-age': Type.String(),
}, { additionalProperties: false });
export type ControllerConfig = Static<typeof ControllerConfig>;

import { Type, type Static } from '@sinclair/typebox';
import { route } from '../contract.ts';
import { OperationDoc } from '../agent.ts';

/** A scheduled action as `schedule list` shows it (times ISO 8601). */
export const ScheduleView = Type.Object({
  name: Type.String(),
  /** `app/N`, or `app/leader` (resolved when it runs). */
  unit: Type.String(),
  action: Type.String(),
  /** The action's parameters (free-form, as the charm's action takes them). */
  params: Type.Record(Type.String(), Type.Unknown()),
  every: Type.String(),
  /** Snapshots kept in the backup store. */
  keep: Type.Integer(),
  'next-run': Type.String(),
  running: Type.Boolean(),
  'last-run': Type.Union([Type.String(), Type.Null()]),
  'last-status': Type.Union([Type.Literal(''), Type.Literal('completed'), Type.Literal('failed')]),
  'last-message': Type.String(),
  'last-snapshot': Type.String(),
}, { additionalProperties: false });
export type ScheduleView = Static<typeof ScheduleView>;

export const ScheduleRequest = Type.Object({
  name: Type.String({ maxLength: 63 }),
  unit: Type.String({ maxLength: 200 }),
  action: Type.String({ maxLength: 200 }),
  params: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())),
  every: Type.String({ maxLength: 40 }),
  keep: Type.Optional(Type.Integer()),
}, { additionalProperties: false });
export type ScheduleRequest = Static<typeof ScheduleRequest>;

/** The controller's one backup store (never its password). */
export const BackupStoreConfig = Type.Object({
  kind: Type.Union([Type.Literal('local'), Type.Literal('restic')]),
  location: Type.String(),
}, { additionalProperties: false });
export type BackupStoreConfig = Static<typeof BackupStoreConfig>;

/** A restic password arrives here (from a file or the environment on the CLI side) and is never answered back. */
export const BackupStoreRequest = Type.Object({ kind: Type.String({ maxLength: 16 }), location: Type.String({ maxLength: 1024 }), password: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
export type BackupStoreRequest = Static<typeof BackupStoreRequest>;

/** A snapshot a schedule copied off a unit into the backup store. */
export const UnitSnapshot = Type.Object({
  id: Type.String(),
  model: Type.String(),
  schedule: Type.String(),
  unit: Type.String(),
  app: Type.String(),
  'source-path': Type.String(),
  store: Type.Union([Type.Literal('local'), Type.Literal('restic')]),
  bytes: Type.Integer({ minimum: 0 }),
  /** Bytes this snapshot added to the store (restic's deduplicated figure; all of it for a local directory). */
  added: Type.Integer({ minimum: 0 }),
  /** ISO 8601. */
  created: Type.String(),
}, { additionalProperties: false });
export type UnitSnapshot = Static<typeof UnitSnapshot>;

export const RestoreUnitRequest = Type.Object({
  unit: Type.String({ maxLength: 200 }),
  snapshot: Type.String({ maxLength: 80 }),
  action: Type.Optional(Type.String({ maxLength: 200 })),
  /** The model whose snapshot it is, when not the unit's own (a failover drill restores into a rebuilt model). */
  fromModel: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });
export type RestoreUnitRequest = Static<typeof RestoreUnitRequest>;

/** A unit restored: where the snapshot was put on it, and the restore action's outcome. */
export const RestoreUnitResponse = Type.Object({
  unit: Type.String(),
  snapshot: Type.String(),
  path: Type.String(),
  operation: OperationDoc,
}, { additionalProperties: false });
export type RestoreUnitResponse = Static<typeof RestoreUnitResponse>;

/** A notification target and how its deliveries went (never its webhook secret or XMPP password). */
export const NotifyTarget = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('webhook'), Type.Literal('xmpp')]),
  /** The webhook URL, or the XMPP account's JID. */
  address: Type.String(),
  /** XMPP: the multi-user chat room's JID. */
  room: Type.String(),
  /** XMPP: host:port of the server when not found from the JID's domain (port 5222). */
  server: Type.String(),
  /** The events it is told about (`sigil notify add --events`). */
  events: Type.Array(Type.String()),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer(),
  'last-event': Type.String(),
  'last-error': Type.String(),
  /** ISO 8601. */
  'last-at': Type.Union([Type.String(), Type.Null()]),
}, { additionalProperties: false });
export type NotifyTarget = Static<typeof NotifyTarget>;

/** A webhook secret or XMPP password arrives in `secret`, is stored sealed, and is never answered back. */
export const NotifyRequest = Type.Object({
  name: Type.String({ maxLength: 63 }),
  kind: Type.String({ maxLength: 16 }),
  address: Type.String({ maxLength: 2048 }),
  room: Type.Optional(Type.String({ maxLength: 400 })),
  server: Type.Optional(Type.String({ maxLength: 300 })),
  events: Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 }),
  secret: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });
export type NotifyRequest = Static<typeof NotifyRequest>;

const Removed = Type.Object({ removed: Type.String() }, { additionalProperties: false });

/**
 * Day-2 operations (issue 18): scheduled actions, the backup store and unit restores, and
 * notification targets. Notifications and the backup store are controller settings;
 * scheduled actions and unit restores run actions, as `sigil run` does.
 */
export const OPS_ROUTES = {
  'GET /api/backup-store': route({ access: 'superuser', response: Type.Object({ store: Type.Union([BackupStoreConfig, Type.Null()]) }, { additionalProperties: false }) }),
  'POST /api/backup-store': route({ access: 'superuser', body: BackupStoreRequest, response: Type.Object({ store: BackupStoreConfig }, { additionalProperties: false }) }),
  'GET /api/notify': route({ access: 'superuser', response: Type.Object({ targets: Type.Array(NotifyTarget) }, { additionalProperties: false }) }),
  /** Adds a target after one test delivery; the answer names it and the events it gets. */
  'POST /api/notify': route({ access: 'superuser', body: NotifyRequest, response: Type.Object({ added: Type.String(), events: Type.Array(Type.String()) }, { additionalProperties: false }) }),
  'DELETE /api/notify/:name': route({ access: 'superuser', response: Removed }),
  'GET /api/models/:model/schedules': route({ access: 'read', response: Type.Object({ schedules: Type.Array(ScheduleView) }, { additionalProperties: false }) }),
  'POST /api/models/:model/schedules': route({ access: 'write', body: ScheduleRequest, response: ScheduleView }),
  'DELETE /api/models/:model/schedules/:name': route({ access: 'write', response: Removed }),
  /** Runs a schedule now and answers when it has finished. */
  'POST /api/models/:model/schedules/:name/run': route({ access: 'write', response: ScheduleView }),
  'GET /api/models/:model/snapshots': route({ access: 'read', response: Type.Object({ store: Type.Union([BackupStoreConfig, Type.Null()]), snapshots: Type.Array(UnitSnapshot) }, { additionalProperties: false }) }),
  'POST /api/models/:model/restore-unit': route({ access: 'write', body: RestoreUnitRequest, response: RestoreUnitResponse }),
} as const;

import { Type, type Static } from '@sinclair/typebox';
import { Bytes, route } from '../contract.ts';
import { MigrateAgentsRequest } from '../requests.ts';

/** One controller backup archive (`sigil create-backup`, `sigil backups`). */
export const BackupInfo = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** ISO 8601. */
  created: Type.String(),
  /** The store's revision the backup holds. */
  revision: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type BackupInfo = Static<typeof BackupInfo>;

/** A backup kept on the controller, as `sigil backups` lists it (its checksum is in the download's answer). */
export const BackupSummary = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  /** ISO 8601, from the archive's name. */
  created: Type.String(),
}, { additionalProperties: false });
export type BackupSummary = Static<typeof BackupSummary>;

/** One machine of a migrate-agents run: re-pointed through the provider, or left to the client (enlisted hosts, over ssh). */
export const MigrateAgentsMachine = Type.Object({
  model: Type.String(),
  machine: Type.String(),
  kind: Type.Union([Type.Literal('provider'), Type.Literal('enlisted')]),
  /** Enlisted hosts: user@host:port and how the agent runs there (systemd or supervised). */
  target: Type.Optional(Type.String()),
  init: Type.Optional(Type.String()),
  /** Why the provider could not re-point it (nothing was changed on that machine then). */
  error: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type MigrateAgentsMachine = Static<typeof MigrateAgentsMachine>;

export const MigrateAgentsResponse = Type.Object({
  url: Type.String(),
  /** The controller's CA (PEM), for the client to write on enlisted hosts. */
  caCert: Type.String(),
  /** When the re-pointing started (ms since the epoch): agents connected since then have moved. */
  at: Type.Number(),
  machines: Type.Array(MigrateAgentsMachine),
}, { additionalProperties: false });
export type MigrateAgentsResponse = Static<typeof MigrateAgentsResponse>;

/** A machine agent's connection to this controller (`GET /api/controller/agents`). */
export const AgentPresenceDoc = Type.Object({
  model: Type.String(),
  machine: Type.String(),
  connected: Type.Boolean(),
  /** ms since the epoch, while connected. */
  'connected-since': Type.Optional(Type.Number()),
  /**
   * When its newest connection opened (ms since the epoch), while connected: later than
   * `connected-since` when a new connection came before the controller saw the old one go.
   */
  'last-connect': Type.Optional(Type.Number()),
}, { additionalProperties: false });
export type AgentPresenceDoc = Static<typeof AgentPresenceDoc>;

/**
 * Controller backups and re-pointing agents after a restore. A backup holds every secret of
 * the controller (its CA key, the secrets key): controller admins only, and the archive is
 * only ever a download.
 */
export const BACKUPS_ROUTES = {
  'POST /api/backups': route({ access: 'superuser', response: BackupInfo }),
  'GET /api/backups': route({ access: 'superuser', response: Type.Object({ backups: Type.Array(BackupSummary) }, { additionalProperties: false }) }),
  'GET /api/backups/:name': route({ access: 'superuser', response: Bytes }),
  // Re-pointing every machine's agent (after a restore at a new address) is a controller admin's.
  'POST /api/controller/migrate-agents': route({
    access: 'superuser',
    body: MigrateAgentsRequest,
    response: MigrateAgentsResponse,
  }),
  'GET /api/controller/agents': route({ access: 'superuser', response: Type.Object({ agents: Type.Array(AgentPresenceDoc) }, { additionalProperties: false }) }),
} as const;

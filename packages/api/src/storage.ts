/**
 * Storage and resources on the wire (issue 20): what `sigil storage`, `storage-pools` and
 * `resources` print from, the requests that change them, and what a unit's agent sees.
 */
import { Type, type Static } from '@sinclair/typebox';

const Kind = Type.Union([Type.Literal('filesystem'), Type.Literal('block')]);

/** One storage instance, as `GET /api/models/:model/storage` lists it. */
export const StorageInstanceDoc = Type.Object({
  /** `data/0`. */
  id: Type.String(),
  name: Type.String(),
  kind: Kind,
  pool: Type.String(),
  /** MiB. */
  size: Type.Number(),
  /** The unit it is attached to ('' when detached). */
  unit: Type.String(),
  /** The unit it was created for (Juju's owner), kept while it is attached. */
  owner: Type.String(),
  machine: Type.String(),
  /** Where the unit sees it ('' until attached). */
  location: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('attaching'), Type.Literal('attached'), Type.Literal('detaching'), Type.Literal('detached'), Type.Literal('destroying')]),
  message: Type.String(),
  life: Type.Union([Type.Literal('alive'), Type.Literal('dying'), Type.Literal('dead')]),
  persistent: Type.Boolean(),
  since: Type.Number(),
}, { additionalProperties: false });
export type StorageInstanceDoc = Static<typeof StorageInstanceDoc>;

export const StoragePoolDoc = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  attributes: Type.Record(Type.String(), Type.String()),
  /** What it gives on this controller's machines. */
  kinds: Type.Array(Kind),
}, { additionalProperties: false });
export type StoragePoolDoc = Static<typeof StoragePoolDoc>;

/** A storage instance in a unit's view: what the agent provisions and the hook tools report. */
export const UnitStorageView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Kind,
  pool: Type.String(),
  size: Type.Number(),
  /** The charm's `location` (filesystem), or '' for the default place. */
  location: Type.String(),
  /** Whether several instances of this store may exist (the location then gets the id's number). */
  multiple: Type.Boolean(),
  /** `alive`, or `dying` once it is to be detached (detach-storage, or the unit going away). */
  life: Type.Union([Type.Literal('alive'), Type.Literal('dying')]),
  /** Remove the data once detached (remove-unit --destroy-storage, remove-storage). */
  destroy: Type.Boolean(),
  status: Type.String(),
}, { additionalProperties: false });
export type UnitStorageView = Static<typeof UnitStorageView>;

/** A resource in a unit's view: the agent fetches the content when the fingerprint moves. */
export const UnitResourceView = Type.Object({
  name: Type.String(),
  filename: Type.String(),
  /** sha384 of the content, hex ('' when nothing was uploaded). */
  fingerprint: Type.String(),
  size: Type.Number(),
}, { additionalProperties: false });
export type UnitResourceView = Static<typeof UnitResourceView>;

/** One resource of an application, as `sigil resources APP` lists it. */
export const ResourceDoc = Type.Object({
  name: Type.String(),
  type: Type.String(),
  path: Type.String(),
  description: Type.String(),
  /** 0 before any upload; each upload adds one. */
  revision: Type.Integer({ minimum: 0 }),
  fingerprint: Type.String(),
  size: Type.Number(),
  origin: Type.Union([Type.Literal('upload'), Type.Literal('')]),
  username: Type.String(),
  timestamp: Type.Number(),
}, { additionalProperties: false });
export type ResourceDoc = Static<typeof ResourceDoc>;

export const StorageAddRequest = Type.Object({
  unit: Type.String({ minLength: 1, maxLength: 200 }),
  directives: Type.Record(Type.String({ maxLength: 100 }), Type.Object({
    pool: Type.Optional(Type.String({ maxLength: 100 })),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type StorageAddRequest = Static<typeof StorageAddRequest>;

export const StorageIdsRequest = Type.Object({
  ids: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
  force: Type.Optional(Type.Boolean()),
  /** remove-storage: keep the data on disk (Juju's --no-destroy). */
  noDestroy: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type StorageIdsRequest = Static<typeof StorageIdsRequest>;

export const StorageAttachRequest = Type.Object({
  unit: Type.String({ minLength: 1, maxLength: 200 }),
  ids: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
}, { additionalProperties: false });
export type StorageAttachRequest = Static<typeof StorageAttachRequest>;

/** Upload of one resource: the file's bytes in base64 (the CLI checks its size before reading it). */
export const ResourceUploadRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  filename: Type.String({ minLength: 1, maxLength: 255 }),
  data: Type.String(),
}, { additionalProperties: false });
export type ResourceUploadRequest = Static<typeof ResourceUploadRequest>;

/** The agent's report on one storage instance of one of its units. */
export const AgentStorageReport = Type.Object({
  unit: Type.String({ minLength: 1, maxLength: 200 }),
  id: Type.String({ minLength: 1, maxLength: 200 }),
  status: Type.Union([Type.Literal('attached'), Type.Literal('detached'), Type.Literal('error')]),
  location: Type.String({ maxLength: 4096 }),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });
export type AgentStorageReport = Static<typeof AgentStorageReport>;

/** The agent's request for one resource of its unit's application. */
export const ResourceFetchRequest = Type.Object({
  unit: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
}, { additionalProperties: false });
export type ResourceFetchRequest = Static<typeof ResourceFetchRequest>;

/** A resource's content for the agent: the bytes in base64, and their fingerprint. */
export const ResourceContent = Type.Object({
  fingerprint: Type.String(),
  data: Type.String(),
}, { additionalProperties: false });
export type ResourceContent = Static<typeof ResourceContent>;

/** The largest resource a client may upload (the body is base64, a third larger). */
export const MAX_RESOURCE_SIZE = 64 * 1024 ** 2;

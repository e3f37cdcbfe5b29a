/**
 * Storage and resources on the wire (issue 20): what `sigil storage`, `storage-pools` and
 * `resources` print from, the requests that change them, and what a unit's agent sees.
 */
import { Type, type Static } from '@sinclair/typebox';

/** One storage instance, as `GET /api/models/:model/storage` lists it. */
export interface StorageInstanceDoc {
  /** `data/0`. */
  id: string;
  name: string;
  kind: 'filesystem' | 'block';
  pool: string;
  /** MiB. */
  size: number;
  /** The unit it is attached to ('' when detached). */
  unit: string;
  /** The unit it was created for (Juju's owner), kept while it is attached. */
  owner: string;
  machine: string;
  /** Where the unit sees it ('' until attached). */
  location: string;
  status: 'pending' | 'attaching' | 'attached' | 'detaching' | 'detached' | 'destroying';
  message: string;
  life: 'alive' | 'dying' | 'dead';
  persistent: boolean;
  since: number;
}

export interface StoragePoolDoc {
  name: string;
  provider: string;
  attributes: Record<string, string>;
  /** What it gives on this controller's machines. */
  kinds: ('filesystem' | 'block')[];
}

/** A storage instance in a unit's view: what the agent provisions and the hook tools report. */
export interface UnitStorageView {
  id: string;
  name: string;
  kind: 'filesystem' | 'block';
  pool: string;
  size: number;
  /** The charm's `location` (filesystem), or '' for the default place. */
  location: string;
  /** Whether several instances of this store may exist (the location then gets the id's number). */
  multiple: boolean;
  /** `alive`, or `dying` once it is to be detached (detach-storage, or the unit going away). */
  life: 'alive' | 'dying';
  /** Remove the data once detached (remove-unit --destroy-storage, remove-storage). */
  destroy: boolean;
  status: string;
}

/** A resource in a unit's view: the agent fetches the content when the fingerprint moves. */
export interface UnitResourceView {
  name: string;
  filename: string;
  /** sha384 of the content, hex ('' when nothing was uploaded). */
  fingerprint: string;
  size: number;
}

/** One resource of an application, as `sigil resources APP` lists it. */
export interface ResourceDoc {
  name: string;
  type: string;
  path: string;
  description: string;
  /** 0 before any upload; each upload adds one. */
  revision: number;
  fingerprint: string;
  size: number;
  origin: 'upload' | '';
  username: string;
  timestamp: number;
}

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

/** The largest resource a client may upload (the body is base64, a third larger). */
export const MAX_RESOURCE_SIZE = 64 * 1024 ** 2;

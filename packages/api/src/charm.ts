import { Type, type Static } from '@sinclair/typebox';
import { MAX_ARCHIVE_PATH, type ActionSpec, type Charm, type CharmMeta, type ConfigOption, type EndpointSpec, type ResourceSpec, type StorageSpec } from '@sigil/core';
import { sameType } from './contract.ts';

/**
 * One entry of a charm archive. A regular file carries its bytes in `data` (base64) and its
 * permission bits in `mode`; a symbolic link carries its relative target in `link`, with
 * `data` empty. Names and targets obey core's checkArchiveEntries wherever an archive
 * crosses an edge; containment (no `..`, no absolute names, links that stay inside) is
 * checked by the charms domain, so the refusal names the entry and says what to do.
 */
export const CharmArchiveFile = Type.Object({
  path: Type.String({ minLength: 1, maxLength: MAX_ARCHIVE_PATH }),
  mode: Type.Integer({ minimum: 0, maximum: 0o7777 }),
  data: Type.String(),
  link: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ARCHIVE_PATH })),
}, { additionalProperties: false });
export type CharmArchiveFile = Static<typeof CharmArchiveFile>;

/** A local charm as uploaded by the CLI: every file of the directory, base64-encoded. */
export const CharmArchive = Type.Object({ files: Type.Array(CharmArchiveFile) }, { additionalProperties: false });
export type CharmArchive = Static<typeof CharmArchive>;

/** An upload: the archive, and where it came from (kept for export-bundle; not part of the charm's hash). */
export const CharmUpload = Type.Object({ files: Type.Array(CharmArchiveFile), source: Type.Optional(Type.String()) }, { additionalProperties: false });
export type CharmUpload = Static<typeof CharmUpload>;

// A parsed charm as answers carry it: schemas of @sigil/core's charm types (charm/types.ts,
// charm/storage.ts). Each is checked below to be the very type core declares.

const ConfigValueSchema = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const EndpointSpecSchema = Type.Object({
  name: Type.String(),
  role: Type.Union([Type.Literal('provider'), Type.Literal('requirer'), Type.Literal('peer')]),
  interface: Type.String(),
  /** Maximum number of relations on this endpoint; absent means unlimited. */
  limit: Type.Optional(Type.Integer()),
  optional: Type.Boolean(),
  scope: Type.Union([Type.Literal('global'), Type.Literal('container')]),
}, { additionalProperties: false });

export const StorageSpecSchema = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('filesystem'), Type.Literal('block')]),
  description: Type.String(),
  shared: Type.Boolean(),
  readOnly: Type.Boolean(),
  /** Instances per unit: at least `countMin`, at most `countMax` (-1: no limit). */
  countMin: Type.Integer(),
  countMax: Type.Integer(),
  /** MiB; 0 when the charm sets none. */
  minimumSize: Type.Number(),
  /** Filesystem only; '' when the charm sets none. */
  location: Type.String(),
  properties: Type.Array(Type.String()),
}, { additionalProperties: false });

export const ResourceSpecSchema = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('file'), Type.Literal('oci-image')]),
  filename: Type.String(),
  description: Type.String(),
}, { additionalProperties: false });

export const CharmMetaSchema = Type.Object({
  name: Type.String(),
  summary: Type.String(),
  description: Type.String(),
  subordinate: Type.Boolean(),
  provides: Type.Record(Type.String(), EndpointSpecSchema),
  requires: Type.Record(Type.String(), EndpointSpecSchema),
  peers: Type.Record(Type.String(), EndpointSpecSchema),
  extraBindings: Type.Array(Type.String()),
  storage: Type.Record(Type.String(), StorageSpecSchema),
  resources: Type.Record(Type.String(), ResourceSpecSchema),
  /** The whole of metadata.yaml as plain data, unknown keys included. */
  raw: Type.Record(Type.String(), Type.Unknown()),
}, { additionalProperties: false });

export const ConfigOptionSchema = Type.Object({
  type: Type.Union([Type.Literal('string'), Type.Literal('int'), Type.Literal('float'), Type.Literal('boolean'), Type.Literal('secret')]),
  /** Absent means the option is unset (null) until the user sets it. */
  default: Type.Optional(ConfigValueSchema),
  description: Type.String(),
}, { additionalProperties: false });

export const ActionSpecSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  /** The JSON Schema object Juju builds: `{title, type: object, description, properties, ...}`. */
  schema: Type.Record(Type.String(), Type.Unknown()),
  parallel: Type.Boolean(),
  executionGroup: Type.String(),
}, { additionalProperties: false });

export const CharmSchema = Type.Object({
  meta: CharmMetaSchema,
  config: Type.Record(Type.String(), ConfigOptionSchema),
  actions: Type.Record(Type.String(), ActionSpecSchema),
  version: Type.Optional(Type.String()),
}, { additionalProperties: false });

// Each schema's type is core's type: a change to either fails the build.
sameType<Static<typeof EndpointSpecSchema>, EndpointSpec>();
sameType<Static<typeof StorageSpecSchema>, StorageSpec>();
sameType<Static<typeof ResourceSpecSchema>, ResourceSpec>();
sameType<Static<typeof CharmMetaSchema>, CharmMeta>();
sameType<Static<typeof ConfigOptionSchema>, ConfigOption>();
sameType<Static<typeof ActionSpecSchema>, ActionSpec>();
sameType<Static<typeof CharmSchema>, Charm>();

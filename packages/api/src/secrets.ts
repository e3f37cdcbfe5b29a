import { Type, type Static } from '@sinclair/typebox';

/**
 * Juju secrets on the wire. Secret *content* is a map of key → base64 value (Juju's
 * SecretData); it crosses the API only to a unit allowed to read it and to a model admin
 * asking for `show-secret --reveal`. Everything else (views, lists, status) carries
 * metadata only.
 */
export const SecretContent = Type.Record(Type.String(), Type.String());
export type SecretContent = Static<typeof SecretContent>;

/** A secret this unit manages (owns, or its application owns and it leads). */
export const OwnedSecretView = Type.Object({
  id: Type.String(),
  owner: Type.Union([Type.Literal('application'), Type.Literal('unit')]),
  label: Type.String(),
  description: Type.String(),
  revision: Type.Integer(),
  rotation: Type.String(),
  /** When the next rotation is due (epoch ms), if a rotate policy is set. */
  rotateAt: Type.Optional(Type.Number()),
  /** When the latest revision expires (epoch ms), if it does. */
  expireAt: Type.Optional(Type.Number()),
  /** Revisions older than the latest that no consumer tracks: the owner gets `secret-remove` for each. */
  obsolete: Type.Array(Type.Integer()),
  access: Type.Array(Type.Object({ target: Type.String(), scope: Type.String(), role: Type.Literal('view') }, { additionalProperties: false })),
}, { additionalProperties: false });
export type OwnedSecretView = Static<typeof OwnedSecretView>;

/** A secret this unit may read without managing it: granted to it or its application, or owned by its application (non-leader). */
export const ConsumedSecretView = Type.Object({
  id: Type.String(),
  /** The label this unit gave it with `secret-get --label`, else the owner's label for its own application's secrets. */
  label: Type.String(),
  /** The revision this unit has pinned (0: never read). */
  tracked: Type.Integer(),
  latest: Type.Integer(),
  /** Owned by this unit's application: the unit reads the latest revision and tracks nothing. */
  ownerApp: Type.Boolean(),
}, { additionalProperties: false });
export type ConsumedSecretView = Static<typeof ConsumedSecretView>;

/** The unit's secrets, metadata only. */
export const UnitSecretsView = Type.Object({
  owned: Type.Array(OwnedSecretView),
  consumed: Type.Array(ConsumedSecretView),
}, { additionalProperties: false });
export type UnitSecretsView = Static<typeof UnitSecretsView>;

const Meta = {
  label: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  /** Epoch ms; null clears it. */
  expire: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  rotate: Type.Optional(Type.String()),
};

/** One secret operation a hook buffered; applied in order with the hook's other changes. */
/*
 * The members carry no `additionalProperties: false`: Fastify's Ajv removes additional
 * properties while it tries each member of a union, which would strip a later member's
 * fields before it is tried. The domain reads only the fields it knows.
 */
export const SecretOp = Type.Union([
  Type.Object({ op: Type.Literal('add'), id: Type.String(), owner: Type.Union([Type.Literal('application'), Type.Literal('unit')]), content: SecretContent, ...Meta }),
  Type.Object({ op: Type.Literal('set'), id: Type.String(), content: Type.Optional(SecretContent), ...Meta }),
  Type.Object({ op: Type.Literal('grant'), id: Type.String(), relation: Type.Integer(), app: Type.String(), unit: Type.Optional(Type.String()) }),
  Type.Object({ op: Type.Literal('revoke'), id: Type.String(), app: Type.Optional(Type.String()), unit: Type.Optional(Type.String()), relation: Type.Optional(Type.Integer()) }),
  Type.Object({ op: Type.Literal('remove'), id: Type.String(), revision: Type.Optional(Type.Integer({ minimum: 1 })) }),
  /** A consumer's `secret-get --refresh` (or its first read): it now tracks `revision`. */
  Type.Object({ op: Type.Literal('track'), id: Type.String(), revision: Type.Integer({ minimum: 1 }), label: Type.Optional(Type.String()) }),
  /** The owner ran `secret-rotate`: the next rotation is one policy interval from now. */
  Type.Object({ op: Type.Literal('rotated'), id: Type.String() }),
]);
export type SecretOp = Static<typeof SecretOp>;

export const SecretContentRequest = Type.Object({ unit: Type.String(), ids: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })) }, { additionalProperties: false });
export type SecretContentRequest = Static<typeof SecretContentRequest>;

/** Per secret, the content of each revision this unit may read in its next hook (pinned and latest). */
export const SecretContentResponse = Type.Object({
  secrets: Type.Array(Type.Object({ id: Type.String(), revisions: Type.Record(Type.String(), SecretContent) }, { additionalProperties: false })),
  /** The unit's secrets as of this read (fresher than its view, which may lag its last commit). */
  view: UnitSecretsView,
}, { additionalProperties: false });
export type SecretContentResponse = Static<typeof SecretContentResponse>;

// User secrets (`sigil add-secret`, …).
export const AddSecretRequest = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), content: SecretContent, info: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
export type AddSecretRequest = Static<typeof AddSecretRequest>;
export const UpdateSecretRequest = Type.Object({
  content: Type.Optional(SecretContent),
  info: Type.Optional(Type.String({ maxLength: 4096 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: false });
export type UpdateSecretRequest = Static<typeof UpdateSecretRequest>;
export const SecretAppsRequest = Type.Object({ apps: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }, { additionalProperties: false });
export type SecretAppsRequest = Static<typeof SecretAppsRequest>;

/** A secret's metadata, as `sigil secrets` lists it (Juju's secretDisplayDetails without values). */
export const SecretMetadata = Type.Object({
  id: Type.String(),
  /** `<model>` for user secrets, else the owning application or unit. */
  owner: Type.String(),
  ownerKind: Type.Union([Type.Literal('model'), Type.Literal('application'), Type.Literal('unit')]),
  name: Type.String(),
  label: Type.String(),
  description: Type.String(),
  revision: Type.Integer(),
  rotation: Type.String(),
  rotates: Type.Optional(Type.Number()),
  expires: Type.Optional(Type.Number()),
  created: Type.Number(),
  updated: Type.Number(),
  access: Type.Array(Type.Object({ target: Type.String(), scope: Type.String(), role: Type.Union([Type.Literal('view'), Type.Literal('manage')]) }, { additionalProperties: false })),
  revisions: Type.Optional(Type.Array(Type.Object({ revision: Type.Integer(), created: Type.Number(), expires: Type.Optional(Type.Number()) }, { additionalProperties: false }))),
}, { additionalProperties: false });
export type SecretMetadata = Static<typeof SecretMetadata>;

/** A secret as `show-secret` sees it: its metadata, and with `reveal` its values. */
export const SecretSummary = Type.Composite([
  SecretMetadata,
  Type.Object({
    /** Only with `reveal`, for model admins: the revision's decoded values. */
    content: Type.Optional(SecretContent),
  }),
], { additionalProperties: false });
export type SecretSummary = Static<typeof SecretSummary>;

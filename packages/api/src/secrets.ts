import { Type, type Static } from '@sinclair/typebox';

/**
 * Juju secrets on the wire. Secret *content* is a map of key → base64 value (Juju's
 * SecretData); it crosses the API only to a unit allowed to read it and to a model admin
 * asking for `show-secret --reveal`. Everything else (views, lists, status) carries
 * metadata only.
 */
export type SecretContent = Record<string, string>;

/** A secret this unit manages (owns, or its application owns and it leads). */
export interface OwnedSecretView {
  id: string;
  owner: 'application' | 'unit';
  label: string;
  description: string;
  revision: number;
  rotation: string;
  /** When the next rotation is due (epoch ms), if a rotate policy is set. */
  rotateAt?: number;
  /** When the latest revision expires (epoch ms), if it does. */
  expireAt?: number;
  /** Revisions older than the latest that no consumer tracks: the owner gets `secret-remove` for each. */
  obsolete: number[];
  access: { target: string; scope: string; role: 'view' }[];
}

/** A secret this unit may read without managing it: granted to it or its application, or owned by its application (non-leader). */
export interface ConsumedSecretView {
  id: string;
  /** The label this unit gave it with `secret-get --label`, else the owner's label for its own application's secrets. */
  label: string;
  /** The revision this unit has pinned (0: never read). */
  tracked: number;
  latest: number;
  /** Owned by this unit's application: the unit reads the latest revision and tracks nothing. */
  ownerApp: boolean;
}

export interface UnitSecretsView {
  owned: OwnedSecretView[];
  consumed: ConsumedSecretView[];
}

const Content = Type.Record(Type.String(), Type.String());
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
export const SecretOpSchema = Type.Union([
  Type.Object({ op: Type.Literal('add'), id: Type.String(), owner: Type.Union([Type.Literal('application'), Type.Literal('unit')]), content: Content, ...Meta }),
  Type.Object({ op: Type.Literal('set'), id: Type.String(), content: Type.Optional(Content), ...Meta }),
  Type.Object({ op: Type.Literal('grant'), id: Type.String(), relation: Type.Integer(), app: Type.String(), unit: Type.Optional(Type.String()) }),
  Type.Object({ op: Type.Literal('revoke'), id: Type.String(), app: Type.Optional(Type.String()), unit: Type.Optional(Type.String()), relation: Type.Optional(Type.Integer()) }),
  Type.Object({ op: Type.Literal('remove'), id: Type.String(), revision: Type.Optional(Type.Integer({ minimum: 1 })) }),
  /** A consumer's `secret-get --refresh` (or its first read): it now tracks `revision`. */
  Type.Object({ op: Type.Literal('track'), id: Type.String(), revision: Type.Integer({ minimum: 1 }), label: Type.Optional(Type.String()) }),
  /** The owner ran `secret-rotate`: the next rotation is one policy interval from now. */
  Type.Object({ op: Type.Literal('rotated'), id: Type.String() }),
]);
export type SecretOp = Static<typeof SecretOpSchema>;

export const SecretContentRequest = Type.Object({ unit: Type.String(), ids: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })) }, { additionalProperties: false });
export type SecretContentRequest = Static<typeof SecretContentRequest>;

/** Per secret, the content of each revision this unit may read in its next hook (pinned and latest). */
export interface SecretContentResponse {
  secrets: { id: string; revisions: Record<string, SecretContent> }[];
  /** The unit's secrets as of this read (fresher than its view, which may lag its last commit). */
  view: UnitSecretsView;
}

// User secrets (`sigil add-secret`, …).
export const AddSecretRequest = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), content: Content, info: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
export type AddSecretRequest = Static<typeof AddSecretRequest>;
export const UpdateSecretRequest = Type.Object({
  content: Type.Optional(Content),
  info: Type.Optional(Type.String({ maxLength: 4096 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: false });
export type UpdateSecretRequest = Static<typeof UpdateSecretRequest>;
export const SecretAppsRequest = Type.Object({ apps: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }, { additionalProperties: false });
export type SecretAppsRequest = Static<typeof SecretAppsRequest>;

/** A secret as `sigil secrets` and `show-secret` see it (Juju's secretDisplayDetails). */
export interface SecretSummary {
  id: string;
  /** `<model>` for user secrets, else the owning application or unit. */
  owner: string;
  ownerKind: 'model' | 'application' | 'unit';
  name: string;
  label: string;
  description: string;
  revision: number;
  rotation: string;
  rotates?: number;
  expires?: number;
  created: number;
  updated: number;
  access: { target: string; scope: string; role: 'view' | 'manage' }[];
  revisions?: { revision: number; created: number; expires?: number }[];
  /** Only with `reveal`, for model admins: the revision's decoded values. */
  content?: Record<string, string>;
}

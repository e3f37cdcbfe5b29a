import { Type, type Static } from '@sinclair/typebox';

/** Offers across models (issue 20): the requests of offer, consume, remove-offer, remove-saas, grant on an offer. */
const Url = Type.String({ minLength: 1, maxLength: 300 });

export const OfferRequest = Type.Object({ spec: Type.String({ minLength: 1, maxLength: 500 }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false });
export type OfferRequest = Static<typeof OfferRequest>;

export const ConsumeRequest = Type.Object({ url: Url, alias: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false });
export type ConsumeRequest = Static<typeof ConsumeRequest>;

export const RemoveOffersRequest = Type.Object({ offers: Type.Array(Url, { minItems: 1, maxItems: 100 }), force: Type.Boolean(), model: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export type RemoveOffersRequest = Static<typeof RemoveOffersRequest>;

export const RemoveSaasRequest = Type.Object({ names: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 }) }, { additionalProperties: false });
export type RemoveSaasRequest = Static<typeof RemoveSaasRequest>;

export const OfferAccessRequest = Type.Object({ user: Type.String({ minLength: 1, maxLength: 100 }), access: Type.String({ minLength: 1, maxLength: 20 }), offers: Type.Array(Url, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false });
export type OfferAccessRequest = Static<typeof OfferAccessRequest>;

export const FindOffersQuery = Type.Object({ model: Type.Optional(Type.String({ maxLength: 100 })), url: Type.Optional(Url), interface: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });
export type FindOffersQuery = Static<typeof FindOffersQuery>;

/** One offer as find-offers and show-offer print it. */
export interface OfferDoc {
  url: string;
  model: string;
  name: string;
  app: string;
  charm: string;
  endpoints: { name: string; interface: string; role: string }[];
  /** The caller's access to the offer (read, consume or admin). */
  access: string;
  /** The relations to the offer, by the consuming model and application. */
  connections: { model: string; app: string; relationId: number; status: string }[];
}

/** Juju's `offers` entry of the offering model's status (cmd/juju/status/formatted.go offerStatus). */
export interface OfferStatusDoc {
  application: string;
  charm?: string;
  'total-connected-count'?: number;
  'active-connected-count'?: number;
  endpoints: Record<string, { interface: string; role: string }>;
}

/** Juju's `application-endpoints` entry of the consuming model's status (remoteApplicationStatus). */
export interface RemoteApplicationStatusDoc {
  url: string;
  endpoints?: Record<string, { interface: string; role: string }>;
  life?: string;
  'application-status': { current: string; message?: string; since?: string };
  relations?: Record<string, string[]>;
}

// ---- Offers across controllers (issue 20) ----

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Endpoint = Type.Object({ name: Name, interface: Name, role: Type.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false });

/** `consume ctrl:URL`, first step, on the offering controller: a credential for the consuming controller. */
export const ConsumerTokenRequest = Type.Object({ url: Url, consumer: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export type ConsumerTokenRequest = Static<typeof ConsumerTokenRequest>;

/** The answer: the credential (shown once, kept only as a hash there) and what the offer offers. */
export const OfferConsumerToken = Type.Object({
  token: Type.String({ minLength: 20, maxLength: 200 }),
  model: Name,
  name: Name,
  app: Name,
  endpoints: Type.Array(Endpoint, { maxItems: 100 }),
  /** The offered application's metadata cut to the offered endpoints (JSON of a CharmMeta). */
  meta: Type.String({ minLength: 2, maxLength: 1_000_000 }),
}, { additionalProperties: false });
export type OfferConsumerToken = Static<typeof OfferConsumerToken>;

/** `consume ctrl:URL`, second step, on the consuming controller: the offer and how to reach it. */
export const ConsumeRemoteRequest = Type.Object({
  controller: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  alias: Type.Optional(Name),
  apiUrls: Type.Array(Type.String({ pattern: '^https://', maxLength: 300 }), { minItems: 1, maxItems: 10 }),
  caCert: Type.String({ minLength: 1, maxLength: 20_000 }),
  token: Type.String({ minLength: 20, maxLength: 200 }),
  offer: Type.Object({ model: Name, name: Name, app: Name, endpoints: Type.Array(Endpoint, { maxItems: 100 }), meta: Type.String({ minLength: 2, maxLength: 1_000_000 }) }, { additionalProperties: false }),
}, { additionalProperties: false });
export type ConsumeRemoteRequest = Static<typeof ConsumeRemoteRequest>;

/** The consuming controller registers one relation with the offering controller. */
export const RegisterRemoteRelation = Type.Object({
  consumer: Type.Object({ model: Type.String({ minLength: 1, maxLength: 100 }), app: Name, endpoint: Endpoint }, { additionalProperties: false }),
  offerEndpoint: Name,
}, { additionalProperties: false });
export type RegisterRemoteRelation = Static<typeof RegisterRemoteRelation>;

const Bag = Type.Object({ owner: Type.String({ minLength: 1, maxLength: 200 }), isApp: Type.Boolean(), data: Type.String({ maxLength: 1_000_000 }), version: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

/** One controller's side of a relation across controllers: its units in scope and their bags. */
export const RemoteSide = Type.Object({
  life: Type.Union([Type.Literal('alive'), Type.Literal('dying'), Type.Literal('dead')]),
  scope: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10_000 }),
  settings: Type.Array(Bag, { maxItems: 10_001 }),
}, { additionalProperties: false });
export type RemoteSide = Static<typeof RemoteSide>;

/** The offering side's answer to an exchange: its side, and the offered application's status. */
export interface RemoteSyncReply extends RemoteSide {
  appStatus?: { current: string; message?: string };
}

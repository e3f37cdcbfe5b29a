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
export const OfferDoc = Type.Object({
  url: Type.String(),
  model: Type.String(),
  name: Type.String(),
  app: Type.String(),
  charm: Type.String(),
  endpoints: Type.Array(Type.Object({ name: Type.String(), interface: Type.String(), role: Type.String() }, { additionalProperties: false })),
  /** The caller's access to the offer (read, consume or admin). */
  access: Type.String(),
  /** The relations to the offer, by the consuming model and application. */
  connections: Type.Array(Type.Object({
    model: Type.String(),
    app: Type.String(),
    relationId: Type.Integer(),
    /** `joined` while the relation is alive, then `broken`. */
    status: Type.String(),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type OfferDoc = Static<typeof OfferDoc>;

/** What `offer` made (or grew): the offer's URL, its application and all its endpoints. */
export const OfferAnswer = Type.Object({ url: Type.String(), app: Type.String(), endpoints: Type.Array(Type.String()) }, { additionalProperties: false });
export type OfferAnswer = Static<typeof OfferAnswer>;

/** The body of show-offer: the offer's URL. */
export const ShowOfferRequest = Type.Object({ url: Url }, { additionalProperties: false });
export type ShowOfferRequest = Static<typeof ShowOfferRequest>;

/** What consuming an offer (of this controller or another) added: the remote application's alias and the offer's URL. */
export const ConsumeAnswer = Type.Object({ alias: Type.String(), url: Type.String() }, { additionalProperties: false });
export type ConsumeAnswer = Static<typeof ConsumeAnswer>;

/** An endpoint in the status sections: its interface and role, by endpoint name. */
const StatusEndpoints = Type.Record(Type.String(), Type.Object({ interface: Type.String(), role: Type.String() }, { additionalProperties: false }));

/** Juju's `offers` entry of the offering model's status (cmd/juju/status/formatted.go offerStatus). */
export const OfferStatusDoc = Type.Object({
  application: Type.String(),
  charm: Type.Optional(Type.String()),
  'total-connected-count': Type.Optional(Type.Integer()),
  'active-connected-count': Type.Optional(Type.Integer()),
  endpoints: StatusEndpoints,
}, { additionalProperties: false });
export type OfferStatusDoc = Static<typeof OfferStatusDoc>;

/** Juju's `application-endpoints` entry of the consuming model's status (remoteApplicationStatus). */
export const RemoteApplicationStatusDoc = Type.Object({
  url: Type.String(),
  endpoints: Type.Optional(StatusEndpoints),
  life: Type.Optional(Type.String()),
  'application-status': Type.Object({ current: Type.String(), message: Type.Optional(Type.String()), since: Type.Optional(Type.String()) }, { additionalProperties: false }),
  relations: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
}, { additionalProperties: false });
export type RemoteApplicationStatusDoc = Static<typeof RemoteApplicationStatusDoc>;

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
export const RemoteSyncReply = Type.Object({
  ...RemoteSide.properties,
  appStatus: Type.Optional(Type.Object({ current: Type.String(), message: Type.Optional(Type.String()) }, { additionalProperties: false })),
}, { additionalProperties: false });
export type RemoteSyncReply = Static<typeof RemoteSyncReply>;

/** The offering controller's number for a relation registered with it (`POST /api/remote-relations`). */
export const RemoteRelationRegistered = Type.Object({ relationId: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export type RemoteRelationRegistered = Static<typeof RemoteRelationRegistered>;

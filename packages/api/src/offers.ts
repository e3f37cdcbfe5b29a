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

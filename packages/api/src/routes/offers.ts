import { Type } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import {
  ConsumeAnswer, ConsumeRemoteRequest, ConsumeRequest, ConsumerTokenRequest, FindOffersQuery, OfferAccessRequest, OfferAnswer, OfferConsumerToken, OfferDoc,
  OfferRequest, RegisterRemoteRelation, RemoteRelationRegistered, RemoteSide, RemoteSyncReply, RemoveOffersRequest, RemoveSaasRequest, ShowOfferRequest,
} from '../offers.ts';

/**
 * Routes of offers across models (issue 20). Offering needs admin on the offering model;
 * find-offers, show-offer, remove-offer and offer grants are controller-level and each route
 * lets a user see or change only the offers of models it administers (or was granted, for
 * find/show); consuming needs write on the consuming model and consume access to the offer
 * (checked by the route).
 */
export const OFFERS_ROUTES = {
  'POST /api/models/:model/offers': route({ access: 'admin', body: OfferRequest, response: OfferAnswer }),
  'GET /api/offers': route({ access: 'login', query: FindOffersQuery, response: Type.Object({ offers: Type.Array(OfferDoc) }, { additionalProperties: false }) }),
  'POST /api/offers/show': route({ access: 'login', body: ShowOfferRequest, response: OfferDoc }),
  'POST /api/offers/remove': route({ access: 'login', body: RemoveOffersRequest, response: Ok }),
  'POST /api/offers/grant': route({ access: 'login', body: OfferAccessRequest, response: Ok }),
  'POST /api/offers/revoke': route({ access: 'login', body: OfferAccessRequest, response: Ok }),
  'POST /api/models/:model/consume': route({ access: 'write', body: ConsumeRequest, response: ConsumeAnswer }),
  'POST /api/models/:model/saas/remove': route({ access: 'write', body: RemoveSaasRequest, response: Ok }),
  // Offers across controllers: the offering controller mints a credential for one offer
  // (the route checks consume access); the consuming model takes it (write, as consume); the
  // consuming controller's worker registers and exchanges relations with that credential.
  'POST /api/offers/consumer-token': route({ access: 'login', body: ConsumerTokenRequest, response: OfferConsumerToken }),
  'POST /api/models/:model/consume-remote': route({ access: 'write', body: ConsumeRemoteRequest, response: ConsumeAnswer }),
  'POST /api/remote-relations': route({ access: 'offer', body: RegisterRemoteRelation, response: RemoteRelationRegistered }),
  // `:id` is the offering controller's relation number (digits).
  'POST /api/remote-relations/:id/sync': route({ access: 'offer', body: RemoteSide, response: RemoteSyncReply }),
} as const;

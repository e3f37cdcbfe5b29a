import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConsumeRemoteRequest, ConsumerTokenRequest, RegisterRemoteRelation, RemoteSide, ConsumeRequest, FindOffersQuery, OfferAccessRequest, OfferRequest, RemoveOffersRequest, RemoveSaasRequest, type OfferDoc } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.ts';
import type { OfferCaller } from '../domain/offers.ts';
import type { OfferPrincipal } from '../domain/remote-offers.ts';

type M = { Params: { model: string } };

const ShowOffer = Type.Object({ url: Type.String({ minLength: 1, maxLength: 300 }) }, { additionalProperties: false });

/** The user calling: its access to offers decides what it sees (a machine never reaches these routes). */
function caller(req: FastifyRequest): OfferCaller {
  if (req.principal?.kind !== 'user') throw new SigilError('forbidden', 'only users may call this');
  return { name: req.principal.name, superuser: req.principal.superuser };
}

/** A consuming controller, with its credential for one offer. */
function consumerController(req: FastifyRequest): OfferPrincipal {
  if (req.principal?.kind !== 'offer') throw new SigilError('forbidden', 'only consuming controllers may call this');
  return req.principal;
}

const SyncParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,9}$' }) }, { additionalProperties: false });

/** Offers across models (issue 20): offer, find, show, consume, remove, grant; and across controllers. */
export function registerOfferRoutes(app: FastifyInstance, svc: Services): void {
  const model = (name: string) => svc.models.mustGet(name).name;

  app.post<M & { Body: OfferRequest }>('/api/models/:model/offers', { schema: { body: OfferRequest } }, async (req) =>
    svc.offers.offer(model(req.params.model), req.body.spec, req.body.name));
  app.get<{ Querystring: FindOffersQuery }>('/api/offers', { schema: { querystring: FindOffersQuery } }, async (req): Promise<{ offers: OfferDoc[] }> => {
    const filter: { model?: string; url?: string; interface?: string } = {};
    if (req.query.model) filter.model = req.query.model;
    if (req.query.url) filter.url = req.query.url;
    if (req.query.interface) filter.interface = req.query.interface;
    return { offers: svc.offers.find(caller(req), filter) };
  });
  app.post<{ Body: { url: string } }>('/api/offers/show', { schema: { body: ShowOffer } }, async (req): Promise<OfferDoc> => svc.offers.show(caller(req), req.body.url));
  app.post<{ Body: RemoveOffersRequest }>('/api/offers/remove', { schema: { body: RemoveOffersRequest } }, async (req) => {
    const c = caller(req);
    // All or nothing: one offer refused leaves every other in place.
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.removeOffer(c, req.body.model, o, req.body.force); });
    svc.wake();
    return { ok: true };
  });
  app.post<{ Body: OfferAccessRequest }>('/api/offers/grant', { schema: { body: OfferAccessRequest } }, async (req) => {
    const c = caller(req);
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.grant(c, req.body.user, req.body.access, o); });
    return { ok: true };
  });
  app.post<{ Body: OfferAccessRequest }>('/api/offers/revoke', { schema: { body: OfferAccessRequest } }, async (req) => {
    const c = caller(req);
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.revoke(c, req.body.user, req.body.access, o); });
    return { ok: true };
  });
  app.post<M & { Body: ConsumeRequest }>('/api/models/:model/consume', { schema: { body: ConsumeRequest } }, async (req) =>
    svc.offers.consume(caller(req), model(req.params.model), req.body.url, req.body.alias));
  // Across controllers: the offering side mints a credential and answers the consuming
  // controller's worker; the consuming side takes the offer with its credential.
  app.post<{ Body: ConsumerTokenRequest }>('/api/offers/consumer-token', { schema: { body: ConsumerTokenRequest } }, async (req) =>
    svc.remoteOffers.mintToken(caller(req), req.body.url, req.body.consumer));
  app.post<M & { Body: ConsumeRemoteRequest }>('/api/models/:model/consume-remote', { schema: { body: ConsumeRemoteRequest } }, async (req) => {
    const r = svc.remoteOffers.consume(model(req.params.model), req.body);
    svc.wake();
    return r;
  });
  app.post<{ Body: RegisterRemoteRelation }>('/api/remote-relations', { schema: { body: RegisterRemoteRelation } }, async (req) => {
    const r = svc.remoteOffers.registerRelation(consumerController(req), req.body.consumer, req.body.offerEndpoint);
    svc.wake();
    return r;
  });
  // Every second per relation: what changed is committed, which runs the workers anyway.
  app.post<{ Params: { id: string }; Body: RemoteSide }>('/api/remote-relations/:id/sync', { schema: { params: SyncParams, body: RemoteSide } }, async (req) =>
    svc.remoteOffers.sync(consumerController(req), Number(req.params.id), req.body));
  app.post<M & { Body: RemoveSaasRequest }>('/api/models/:model/saas/remove', { schema: { body: RemoveSaasRequest } }, async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => { for (const n of req.body.names) svc.offers.removeSaas(m, n); });
    svc.wake();
    return { ok: true };
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import type { OfferCaller } from '../domain/offers.ts';
import type { OfferPrincipal } from '../domain/remote-offers.ts';
import { routes } from './contract.ts';

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

/** Offers across models (issue 20): offer, find, show, consume, remove, grant; and across controllers. */
export function registerOfferRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;

  on('POST /api/models/:model/offers', async (req) =>
    svc.offers.offer(model(req.params.model), req.body.spec, req.body.name));
  on('GET /api/offers', async (req) => {
    const filter: { model?: string; url?: string; interface?: string } = {};
    if (req.query.model) filter.model = req.query.model;
    if (req.query.url) filter.url = req.query.url;
    if (req.query.interface) filter.interface = req.query.interface;
    return { offers: svc.offers.find(caller(req), filter) };
  });
  on('POST /api/offers/show', async (req) => svc.offers.show(caller(req), req.body.url));
  on('POST /api/offers/remove', async (req) => {
    const c = caller(req);
    // All or nothing: one offer refused leaves every other in place.
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.removeOffer(c, req.body.model, o, req.body.force); });
    svc.wake();
    return { ok: true };
  });
  on('POST /api/offers/grant', async (req) => {
    const c = caller(req);
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.grant(c, req.body.user, req.body.access, o); });
    return { ok: true };
  });
  on('POST /api/offers/revoke', async (req) => {
    const c = caller(req);
    svc.store.tx(() => { for (const o of req.body.offers) svc.offers.revoke(c, req.body.user, req.body.access, o); });
    return { ok: true };
  });
  on('POST /api/models/:model/consume', async (req) =>
    svc.offers.consume(caller(req), model(req.params.model), req.body.url, req.body.alias));
  // Across controllers: the offering side mints a credential and answers the consuming
  // controller's worker; the consuming side takes the offer with its credential.
  on('POST /api/offers/consumer-token', async (req) =>
    svc.remoteOffers.mintToken(caller(req), req.body.url, req.body.consumer));
  on('POST /api/models/:model/consume-remote', async (req) => {
    const r = svc.remoteOffers.consume(model(req.params.model), req.body);
    svc.wake();
    return r;
  });
  on('POST /api/remote-relations', async (req) => {
    const r = svc.remoteOffers.registerRelation(consumerController(req), req.body.consumer, req.body.offerEndpoint);
    svc.wake();
    return r;
  });
  // Every second per relation: what changed is committed, which runs the workers anyway.
  on('POST /api/remote-relations/:id/sync', async (req) => {
    if (!/^[0-9]{1,9}$/.test(req.params.id)) throw new SigilError('bad-request', `relation "${req.params.id}" is not a relation number`, 'the consuming controller names relations by the number registering gave');
    return svc.remoteOffers.sync(consumerController(req), Number(req.params.id), req.body);
  });
  on('POST /api/models/:model/saas/remove', async (req) => {
    const m = model(req.params.model);
    svc.store.tx(() => { for (const n of req.body.names) svc.offers.removeSaas(m, n); });
    svc.wake();
    return { ok: true };
  });
}

import { OFFER_OWNER, charmEndpoints, deriveApplicationStatus, formatOfferUrl } from '@sigil/core';
import type { OfferStatusDoc, RemoteApplicationStatusDoc, StatusInfoContents } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { OfferRepository } from '../state/offers.ts';
import { RemoteOfferRepository } from '../state/remote-offers.ts';
import { Reads, type RelationRow, type StatusDoc } from '../state/rows.ts';

/**
 * The two cross-model sections of a model's status, with Juju's keys: `offers` (this
 * model's offers and how many relations use them) and `application-endpoints` (the offers
 * this model consumed, with the offered application's status and the local relations).
 * Reads run inside the caller's status transaction.
 */
export function crossModelStatus(s: Store, model: string, relations: RelationRow[], fmt: (ms: number) => string): { offers: Record<string, OfferStatusDoc>; endpoints: Record<string, RemoteApplicationStatusDoc> } {
  const repo = new OfferRepository(s);
  const reads = new Reads(s);
  const info = (st: StatusDoc): StatusInfoContents => ({ current: st.current, ...(st.message ? { message: st.message } : {}), since: fmt(st.since) });
  const endpointsOf = (m: string, app: string, names: string[]) => {
    const a = reads.app(m, app);
    const all = a ? charmEndpoints(reads.charm(m, a.charmUrl).charm.meta) : [];
    return Object.fromEntries(names.map((n) => {
      const e = all.find((x) => x.name === n);
      return [n, { interface: e?.interface ?? '', role: e?.role ?? '' }];
    }));
  };

  const offers: Record<string, OfferStatusDoc> = {};
  for (const o of repo.offers(model)) {
    const links = repo.offerLinks(model, o.name);
    const active = links.filter((l) => relations.find((r) => r.id === l.relationId)?.life === 'alive').length;
    const doc: OfferStatusDoc = { application: o.app, endpoints: endpointsOf(model, o.app, o.endpoints) };
    const app = reads.app(model, o.app);
    if (app) doc.charm = app.charmUrl;
    if (links.length > 0) doc['total-connected-count'] = links.length;
    if (active > 0) doc['active-connected-count'] = active;
    offers[o.name] = doc;
  }

  const endpoints: Record<string, RemoteApplicationStatusDoc> = {};
  const remotes = new RemoteOfferRepository(s);
  for (const sa of repo.saasList(model)) {
    const remote = remotes.remoteOffer(model, sa.name);
    const offer = remote ? undefined : repo.offer(sa.offerModel, sa.offerName);
    const url = remote ? `${remote.controller}:${formatOfferUrl({ user: OFFER_OWNER, model: remote.offerModel, name: remote.offerName })}` : formatOfferUrl({ user: OFFER_OWNER, model: sa.offerModel, name: sa.offerName });
    let status: StatusInfoContents = { current: 'terminated', message: 'offer has been removed' };
    const doc: RemoteApplicationStatusDoc = { url, 'application-status': status };
    if (remote) {
      // Another controller's offer: its application's status as the last exchange reported it.
      doc.endpoints = Object.fromEntries(remote.endpoints.map((e) => [e.name, { interface: e.interface, role: e.role }]));
      const last = remote.appStatus ? (JSON.parse(remote.appStatus) as { current: string; message?: string }) : { current: 'unknown' };
      status = remote.lastError ? { current: last.current, message: `controller ${remote.controller}: ${remote.lastError}` } : last;
      doc['application-status'] = status;
    } else if (offer) {
      doc.endpoints = endpointsOf(offer.model, offer.app, offer.endpoints);
      const app = reads.app(offer.model, offer.app);
      const units = reads.units(offer.model, offer.app);
      status = app?.status ? info(app.status) : deriveApplicationStatus(units.map((u) => info(u.workload))) ?? { current: 'unknown' };
      doc['application-status'] = status;
    }
    const rels: Record<string, string[]> = {};
    for (const r of relations) {
      const mine = r.endpoints.find((e) => e.app === sa.name);
      const other = r.endpoints.find((e) => e.app !== sa.name);
      if (mine && other) (rels[mine.name] ??= []).push(other.app);
    }
    if (Object.keys(rels).length > 0) doc.relations = Object.fromEntries(Object.entries(rels).map(([k, v]) => [k, [...new Set(v)].sort()]));
    endpoints[sa.name] = doc;
  }
  return { offers, endpoints };
}

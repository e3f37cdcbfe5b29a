import { createHash } from 'node:crypto';
import { OFFER_OWNER, SigilError, checkApplicationName, charmEndpoints, formatOfferUrl, inferRelation, parseOfferSpec, parseOfferUrl, relationKey, type CharmMeta, type EndpointSpec } from '@sigil/core';
import type { OfferDoc } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { OfferRepository, type OfferRow, type SaasRow } from '../state/offers.ts';
import { UserRepository } from '../state/users.ts';
import { Reads, type RelationEndpoint, type RelationRow, type SettingsRow } from '../state/rows.ts';
import { Models } from './models.ts';
import { RelationRepository } from '../state/relations.ts';
import { RemoteOfferRepository, type RemoteOfferRow } from '../state/remote-offers.ts';

/** Who asks: a user (its access decides which offers it may see and consume), or the bootstrap admin token. */
export interface OfferCaller {
  name: string;
  superuser: boolean;
}

/** One offer as find-offers and show-offer list it. */
export type OfferInfo = OfferDoc;

/**
 * Offers across models on one controller (issue 20), as Juju's applicationoffers facade and
 * crossmodel commands. An offer names some provides/requires endpoints of an application;
 * a consuming model adds it under an alias (a remote application); relating to the alias
 * makes one relation in each model, linked both ways. Each side's units write their own
 * model's bags and read the other side's through the link (see `peerData`), so relation
 * data flows between the models without being copied.
 */
export class Offers {
  private readonly repo: OfferRepository;
  private readonly reads: Reads;
  private readonly models: Models;
  private readonly users: UserRepository;

  constructor(private readonly s: Store) {
    this.repo = new OfferRepository(s);
    this.reads = new Reads(s);
    this.models = new Models(s);
    this.users = new UserRepository(s);
  }

  /** `sigil offer APP:EP[,EP…] [NAME]`: returns the offer's URL. */
  offer(model: string, spec: string, offerName?: string): { url: string; app: string; endpoints: string[] } {
    const { app, endpoints, name } = parseOfferSpec(spec, offerName);
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const row = this.reads.app(model, app);
      if (!row) throw new SigilError('not-found', `application "${app}" not found`, 'offer an application of this model; see `sigil status`');
      if (row.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
      const meta = this.reads.charm(model, row.charmUrl).charm.meta;
      for (const ep of endpoints) offerableEndpoint(app, meta, ep);
      const existing = this.repo.offer(model, name);
      if (existing && existing.app !== app) {
        throw new SigilError('already-exists', `offer "${name}" already exists for application "${existing.app}"`, 'choose another offer name: `sigil offer APP:ENDPOINT OTHER-NAME`');
      }
      if (existing) {
        const merged = [...new Set([...existing.endpoints, ...endpoints])];
        this.repo.setOfferEndpoints(model, name, merged);
        return { url: formatOfferUrl({ user: OFFER_OWNER, model, name }), app, endpoints: merged };
      }
      this.repo.addOffer({ model, name, app, endpoints });
      return { url: formatOfferUrl({ user: OFFER_OWNER, model, name }), app, endpoints };
    });
  }

  /** `sigil find-offers`: the offers the caller may consume, optionally of one model or matching a URL. */
  find(caller: OfferCaller, filter: { model?: string; url?: string; interface?: string } = {}): OfferInfo[] {
    const byUrl = filter.url === undefined ? undefined : parseOfferUrl(filter.url.includes('.') ? filter.url : `${filter.url}.x`);
    const model = byUrl?.model ?? filter.model;
    return this.repo.offers(model)
      .filter((o) => filter.url === undefined || !filter.url.includes('.') || o.name === byUrl!.name)
      .map((o) => ({ o, access: this.accessOf(caller, o.model, o.name) }))
      .filter((x): x is { o: OfferRow; access: string } => x.access !== undefined)
      .map(({ o, access }) => this.info(o, access))
      .filter((i) => filter.interface === undefined || i.endpoints.some((e) => e.interface === filter.interface));
  }

  /** `sigil show-offer URL`. */
  show(caller: OfferCaller, url: string): OfferInfo {
    const { offer, access } = this.mustFind(caller, url);
    return this.info(offer, access);
  }

  /**
   * `sigil consume URL [ALIAS]`: adds the offer to `model` as a remote application. Consuming
   * the same offer again under the same alias is a no-op, as in Juju.
   */
  consume(caller: OfferCaller, model: string, url: string, alias?: string): { alias: string; url: string } {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const { offer } = this.mustFind(caller, url);
      const canonical = formatOfferUrl({ user: OFFER_OWNER, model: offer.model, name: offer.name });
      if (offer.model === model) throw new SigilError('bad-request', `offer ${canonical} is in model "${model}" itself`, 'relate to the application directly: `sigil integrate APP ' + offer.app + '`');
      const name = checkApplicationName(alias ?? offer.name);
      const saas = this.repo.saas(model, name);
      if (saas) {
        if (saas.offerModel === offer.model && saas.offerName === offer.name) return { alias: name, url: canonical };
        throw new SigilError('already-exists', `saas application "${name}" already exists for ${formatOfferUrl({ user: OFFER_OWNER, model: saas.offerModel, name: saas.offerName })}`, `consume it under another name: \`sigil consume ${url} OTHER-NAME\``);
      }
      if (this.reads.app(model, name)) throw new SigilError('already-exists', `application "${name}" already exists in model "${model}"`, `consume the offer under another name: \`sigil consume ${url} OTHER-NAME\``);
      this.repo.addSaas(model, name, offer.model, offer.name);
      return { alias: name, url: canonical };
    });
  }

  /** The remote application `name` of `model`, if the model consumed an offer under that name. */
  saas(model: string, name: string): SaasRow | undefined {
    return this.repo.saas(model, name);
  }

  /**
   * Relates `local` (app[:ep] of `model`) to the consumed offer `saas` ([:ep]): one relation
   * in each model, linked both ways. The offering model names the consumer `remote-<hash>`
   * as Juju names its consumer proxies.
   */
  integrate(model: string, local: string, saasSpec: string): RelationRow {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const [alias, saasEp] = saasSpec.split(':') as [string, string | undefined];
      const [app, localEp, extra] = local.split(':');
      if (!app || extra !== undefined) throw new SigilError('bad-request', `invalid endpoint "${local}"`, 'write an application, optionally with an endpoint: "wordpress" or "wordpress:db"');
      const saas = this.repo.saas(model, alias)!;
      const remote = new RemoteOfferRepository(this.s).remoteOffer(model, alias);
      if (remote) return this.integrateRemote(model, app, localEp, extra, alias, saasEp, remote);
      const offer = this.repo.offer(saas.offerModel, saas.offerName);
      const url = formatOfferUrl({ user: OFFER_OWNER, model: saas.offerModel, name: saas.offerName });
      if (!offer) throw new SigilError('not-found', `offer ${url} (consumed as "${alias}") has been removed`, `remove the remote application with \`sigil remove-saas ${alias}\``);
      this.models.mustBeAlive(offer.model);
      const localApp = this.reads.mustApp(model, app);
      if (localApp.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
      const offeredApp = this.reads.mustApp(offer.model, offer.app);
      const localMeta = this.reads.charm(model, localApp.charmUrl).charm.meta;
      const offeredMeta = offerMeta(this.reads.charm(offer.model, offeredApp.charmUrl).charm.meta, offer.endpoints);
      const sideA = localEp === undefined ? { app, meta: localMeta } : { app, endpoint: localEp, meta: localMeta };
      const sideB = saasEp === undefined ? { app: alias, meta: offeredMeta } : { app: alias, endpoint: saasEp, meta: offeredMeta };
      const [ea, eb] = inferRelation(sideA, sideB);
      if (!offer.endpoints.includes(eb.spec.name) || ea.spec.scope === 'container' || eb.spec.scope === 'container') {
        throw new SigilError('no-relation', `no global-scoped relation between "${local}" and the endpoints of ${url} (${offer.endpoints.join(', ')})`, 'cross-model relations join a provides or requires endpoint to an offered one of the same interface');
      }
      const key = relationKey(ea, eb);
      if (this.reads.relations(model).some((r) => r.key === key)) throw new SigilError('already-exists', `relation "${key}" already exists`, 'nothing to do');
      const proxy = consumerProxyName(this.models.mustGet(model).uuid, app);
      const ep = (a: string, spec: EndpointSpec): RelationEndpoint => ({ app: a, name: spec.name, role: spec.role, interface: spec.interface, scope: 'global' });
      const localEnds = [ep(app, ea.spec), ep(alias, eb.spec)];
      const peerEnds = [ep(offer.app, eb.spec), ep(proxy, ea.spec)];
      const peerKey = relationKey({ app: offer.app, spec: eb.spec }, { app: proxy, spec: ea.spec });
      const relations = new RelationRepository(this.s);
      const id = relations.nextId(model);
      const peerId = relations.nextId(offer.model);
      this.repo.addRelation(model, id, key, localEnds);
      this.repo.addRelation(offer.model, peerId, peerKey, peerEnds);
      const names = { offerModel: offer.model, offerName: offer.name };
      this.repo.addLink({ model, relationId: id, peerModel: offer.model, peerRelationId: peerId, ...names, remoteApp: alias, peerApp: offer.app });
      this.repo.addLink({ model: offer.model, relationId: peerId, peerModel: model, peerRelationId: id, ...names, remoteApp: proxy, peerApp: app });
      this.s.changed(model, 'relation', String(id));
      this.s.changed(model, 'application', app);
      this.s.changed(offer.model, 'relation', String(peerId));
      this.s.changed(offer.model, 'application', offer.app);
      return this.reads.relation(model, id)!;
    });
  }

  /**
   * Relating to an offer of another controller: the relation lives here, linked to a peer
   * of model '' (another controller); the remote-relations worker registers it there.
   */
  private integrateRemote(model: string, app: string | undefined, localEp: string | undefined, extra: string | undefined, alias: string, saasEp: string | undefined, remote: RemoteOfferRow): RelationRow {
    const local = localEp === undefined ? app ?? '' : `${app}:${localEp}`;
    if (!app || extra !== undefined) throw new SigilError('bad-request', `invalid endpoint "${local}"`, 'write an application, optionally with an endpoint: "wordpress" or "wordpress:db"');
    const localApp = this.reads.mustApp(model, app);
    if (localApp.life !== 'alive') throw new SigilError('conflict', `application "${app}" is being removed`);
    const localMeta = this.reads.charm(model, localApp.charmUrl).charm.meta;
    const offeredMeta = JSON.parse(remote.meta) as CharmMeta;
    const sideA = localEp === undefined ? { app, meta: localMeta } : { app, endpoint: localEp, meta: localMeta };
    const sideB = saasEp === undefined ? { app: alias, meta: offeredMeta } : { app: alias, endpoint: saasEp, meta: offeredMeta };
    const [ea, eb] = inferRelation(sideA, sideB);
    const url = `${remote.controller}:${formatOfferUrl({ user: OFFER_OWNER, model: remote.offerModel, name: remote.offerName })}`;
    if (!remote.endpoints.some((e) => e.name === eb.spec.name) || ea.spec.scope === 'container' || eb.spec.scope === 'container') {
      throw new SigilError('no-relation', `no global-scoped relation between "${local}" and the endpoints of ${url} (${remote.endpoints.map((e) => e.name).join(', ')})`, 'cross-model relations join a provides or requires endpoint to an offered one of the same interface');
    }
    const key = relationKey(ea, eb);
    if (this.reads.relations(model).some((r) => r.key === key)) throw new SigilError('already-exists', `relation "${key}" already exists`, 'nothing to do');
    const ep = (a: string, spec: EndpointSpec): RelationEndpoint => ({ app: a, name: spec.name, role: spec.role, interface: spec.interface, scope: 'global' });
    const id = new RelationRepository(this.s).nextId(model);
    this.repo.addRelation(model, id, key, [ep(app, ea.spec), ep(alias, eb.spec)]);
    this.repo.addLink({ model, relationId: id, peerModel: '', peerRelationId: NOT_REGISTERED, offerModel: `${remote.controller}:${remote.offerModel}`, offerName: remote.offerName, remoteApp: alias, peerApp: remote.offerApp });
    this.s.changed(model, 'relation', String(id));
    this.s.changed(model, 'application', app);
    return this.reads.relation(model, id)!;
  }

  /**
   * `sigil remove-offer URL [--force]`: refuses while relations use the offer unless
   * forced, which removes them too (their units run departed and broken on both sides).
   */
  removeOffer(caller: OfferCaller, currentModel: string, urlOrName: string, force: boolean): void {
    this.s.tx(() => {
      const url = urlOrName.includes('.') ? parseOfferUrl(urlOrName) : { user: OFFER_OWNER, model: currentModel, name: urlOrName };
      const offer = this.repo.offer(url.model, url.name);
      const text = formatOfferUrl(url);
      if (!offer || !this.isOfferAdmin(caller, offer.model)) throw new SigilError('not-found', `application offer "${text}" not found`, 'see `sigil find-offers` for the offers you administer');
      const links = this.repo.offerLinks(offer.model, offer.name);
      if (links.length > 0 && !force) {
        const n = links.length;
        throw new SigilError('conflict', `cannot delete application offer "${text}": offer has ${n} relation${n === 1 ? '' : 's'}`, `remove the relations in the consuming model first, or remove them with the offer: \`sigil remove-offer ${urlOrName} --force\``);
      }
      for (const l of links) this.killRelation(l.model, l.relationId);
      this.repo.removeOffer(offer.model, offer.name);
    });
  }

  /** `sigil remove-saas NAME`: removes the remote application and its relations. */
  removeSaas(model: string, name: string): void {
    this.s.tx(() => {
      if (!this.repo.saas(model, name)) throw new SigilError('not-found', `saas application "${name}" not found`, 'see the SAAS section of `sigil status`');
      for (const l of this.repo.links(model)) if (l.remoteApp === name) this.killRelation(model, l.relationId);
      this.repo.removeSaas(model, name);
    });
  }

  /** Marks a relation and its linked counterpart dying. */
  killRelation(model: string, id: number): void {
    const mark = (m: string, rid: number) => {
      const r = this.reads.relation(m, rid);
      if (!r || r.life !== 'alive') return;
      new RelationRepository(this.s).markDying(m, rid);
    };
    mark(model, id);
    const l = this.repo.link(model, id);
    if (l) mark(l.peerModel, l.peerRelationId);
  }

  /**
   * Level-based upkeep for the cleanup worker: a linked relation dies with its counterpart
   * (or when the counterpart is gone), and a link whose relation is gone is dropped, with
   * the counterpart told so its units see the remote side leave.
   */
  syncLinks(model: string): void {
    for (const l of this.repo.links(model)) {
      const mine = this.reads.relation(model, l.relationId);
      // A relation with another controller: its life follows the exchanges of the consuming
      // controller's remote-relations worker, which also drops the link there once the
      // offering side was told. The offering side drops its link when the relation is gone.
      if (l.peerModel === '') {
        if (!mine && !l.offerModel.includes(':')) {
          this.repo.removeLink(model, l.relationId);
          new RemoteOfferRepository(this.s).removeSide(model, l.relationId);
        }
        continue;
      }
      if (!mine) {
        this.repo.removeLink(model, l.relationId);
        this.s.changed(l.peerModel, 'relation', String(l.peerRelationId));
        continue;
      }
      const peer = this.reads.relation(l.peerModel, l.peerRelationId);
      if (mine.life === 'alive' && (!peer || peer.life !== 'alive')) this.killRelation(model, l.relationId);
      else if (mine.life !== 'alive' && peer?.life === 'alive') this.killRelation(l.peerModel, l.peerRelationId);
    }
  }

  /**
   * The other side of a linked relation as this model's units see it: the counterpart's
   * scope and bags of its own application, renamed to this model's name for it (`alias/0`
   * for `mysql/0`). Undefined for a relation within one model.
   */
  peerData(model: string, id: number): { scope: string[]; settings: SettingsRow[] } | undefined {
    const l = this.repo.link(model, id);
    if (!l) return undefined;
    if (l.peerModel === '') {
      const side = new RemoteOfferRepository(this.s).side(model, id);
      return side ? { scope: side.scope, settings: side.settings } : { scope: [], settings: [] };
    }
    return sideOf(l.peerApp, l.remoteApp, this.reads.relationScope(l.peerModel, l.peerRelationId), this.reads.relationSettings(l.peerModel, l.peerRelationId));
  }

  /** Tells the other model that a linked relation's bags or scope changed here. */
  touchPeer(model: string, id: number): void {
    const l = this.repo.link(model, id);
    // Another controller's side hears of it at the worker's next exchange.
    if (l && l.peerModel !== '') this.s.changed(l.peerModel, 'relation', String(l.peerRelationId));
  }

  /** After a unit left every scope at once (it died): every linked relation's counterpart hears of it. */
  touchPeers(model: string): void {
    for (const l of this.repo.links(model)) this.touchPeer(model, l.relationId);
  }

  private info(o: OfferRow, access: string): OfferInfo {
    const app = this.reads.app(o.model, o.app);
    const charm = app ? this.reads.charm(o.model, app.charmUrl) : undefined;
    const all = charm ? charmEndpoints(charm.charm.meta) : [];
    const endpoints = o.endpoints.map((name) => {
      const e = all.find((x) => x.name === name);
      return { name, interface: e?.interface ?? '', role: e?.role ?? '' };
    });
    const connections = this.repo.offerLinks(o.model, o.name).map((l) => {
      const r = this.reads.relation(l.model, l.relationId);
      return { model: l.peerModel, app: l.peerApp, relationId: l.peerRelationId, status: r?.life === 'alive' ? 'joined' : 'broken' };
    });
    return { url: formatOfferUrl({ user: OFFER_OWNER, model: o.model, name: o.name }), model: o.model, name: o.name, app: o.app, charm: app?.charmUrl ?? '', endpoints, access, connections };
  }

  /** The offer at `url` if `caller` may consume it; not found otherwise (as Juju, probing tells nothing). */
  consumable(caller: OfferCaller, url: string): { offer: OfferRow; access: string } {
    return this.mustFind(caller, url);
  }

  /** `caller`'s access to an offer (admin, consume, read), or undefined. */
  accessFor(caller: OfferCaller, model: string, name: string): string | undefined {
    return this.accessOf(caller, model, name);
  }

  private mustFind(caller: OfferCaller, url: string): { offer: OfferRow; access: string } {
    const u = parseOfferUrl(url);
    const text = formatOfferUrl(u);
    const offer = u.user === OFFER_OWNER ? this.repo.offer(u.model, u.name) : undefined;
    const access = offer ? this.accessOf(caller, offer.model, offer.name) : undefined;
    // As Juju: an offer the caller may not consume is reported as not found, so probing tells nothing.
    if (!offer || access === undefined || access === 'read') {
      throw new SigilError('not-found', `application offer "${text}" not found`, `see \`sigil find-offers\` for the offers you may consume; an admin of the offering model grants one with \`sigil grant ${caller.name} consume ${text}\``);
    }
    return { offer, access };
  }

  private isOfferAdmin(caller: OfferCaller, model: string): boolean {
    return caller.superuser || this.users.roleOn(this.users.mustGet(caller.name), model) === 'admin';
  }

  /** Juju's offer access: admins of the offering model hold admin; others what was granted. */
  private accessOf(caller: OfferCaller, model: string, name: string): string | undefined {
    if (this.isOfferAdmin(caller, model)) return 'admin';
    return this.repo.access(model, name, caller.name);
  }

  /** `sigil grant USER read|consume|admin URL`, by an admin of the offering model. */
  grant(caller: OfferCaller, user: string, access: string, url: string): void {
    this.s.tx(() => {
      const u = parseOfferUrl(url);
      const offer = this.repo.offer(u.model, u.name);
      if (!offer || !this.isOfferAdmin(caller, u.model)) throw new SigilError('not-found', `application offer "${formatOfferUrl(u)}" not found`, 'see `sigil find-offers`');
      if (!OFFER_ACCESS.includes(access)) throw new SigilError('bad-request', `unknown offer access "${access}"`, 'use read, consume or admin');
      this.users.mustGet(user);
      this.repo.setAccess(u.model, u.name, user, access);
    });
  }

  /** `sigil revoke USER read|consume|admin URL`: leaves the level below, as Juju. */
  revoke(caller: OfferCaller, user: string, access: string, url: string): void {
    this.s.tx(() => {
      const u = parseOfferUrl(url);
      const offer = this.repo.offer(u.model, u.name);
      if (!offer || !this.isOfferAdmin(caller, u.model)) throw new SigilError('not-found', `application offer "${formatOfferUrl(u)}" not found`, 'see `sigil find-offers`');
      const i = OFFER_ACCESS.indexOf(access);
      if (i < 0) throw new SigilError('bad-request', `unknown offer access "${access}"`, 'use read, consume or admin');
      this.repo.setAccess(u.model, u.name, user, OFFER_ACCESS[i - 1]);
    });
  }
}

/**
 * One application's part of a relation's scope and bags, renamed to `as` (`mysql/0` as
 * `alias/0`, the bag of `mysql` as `alias`): one side of a linked relation as the other
 * side's model names it. Rows of any other application are left out.
 */
export function sideOf(app: string, as: string, scope: readonly string[], settings: readonly SettingsRow[]): { scope: string[]; settings: SettingsRow[] } {
  const ofApp = (unit: string) => unit.slice(0, unit.lastIndexOf('/')) === app;
  const rename = (unit: string) => `${as}/${unit.slice(unit.lastIndexOf('/') + 1)}`;
  return {
    scope: scope.filter(ofApp).map(rename),
    settings: settings.filter((r) => (r.isApp ? r.owner === app : ofApp(r.owner))).map((r) => ({ ...r, owner: r.isApp ? as : rename(r.owner) })),
  };
}

/** A relation with another controller's offer that the offering controller has not registered yet (relation ids start at 0). */
export const NOT_REGISTERED = -1;

/** Offer access levels, lowest first (Juju's read, consume, admin). */
export const OFFER_ACCESS = ['read', 'consume', 'admin'];

/** The name the offering model gives a consuming application: stable per consumer, as Juju's `remote-<uuid>`. */
export function consumerProxyName(consumerModelUuid: string, app: string): string {
  return `remote-${createHash('sha256').update(`${consumerModelUuid}/${app}`).digest('hex').slice(0, 32)}`;
}

/** Refuses an endpoint an offer cannot carry: unknown, a peer, or container-scoped. */
export function offerableEndpoint(app: string, meta: CharmMeta, name: string): EndpointSpec {
  const all = [...Object.values(meta.provides), ...Object.values(meta.requires)];
  const e = all.find((x) => x.name === name);
  const valid = all.filter((x) => x.scope !== 'container').map((x) => x.name);
  const hint = `offer a provides or requires endpoint of ${app}: ${valid.join(', ') || '(none)'}`;
  if (!e) throw new SigilError('invalid-endpoint', `application "${app}" has no "${name}" provides or requires endpoint`, hint);
  if (e.scope === 'container') throw new SigilError('invalid-endpoint', `endpoint "${app}:${name}" is container-scoped and cannot be offered`, hint);
  return e;
}

/** The offered application's metadata cut down to the offered endpoints: what the consumer relates to. */
export function offerMeta(meta: CharmMeta, endpoints: string[]): CharmMeta {
  const keep = (m: Record<string, EndpointSpec>) => Object.fromEntries(Object.entries(m).filter(([k]) => endpoints.includes(k)));
  return { ...meta, subordinate: false, provides: keep(meta.provides), requires: keep(meta.requires), peers: {} };
}

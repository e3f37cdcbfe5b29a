import { createHash, randomBytes } from 'node:crypto';
import { OFFER_OWNER, SigilError, checkApplicationName, formatOfferUrl, relationKey, type CharmMeta, type EndpointSpec } from '@sigil/core';
import type { RemoteSide, RemoteSyncReply, ConsumeRemoteRequest, OfferConsumerToken } from '@sigil/api';
import type { Store } from '../store/store.ts';
import { OfferRepository } from '../state/offers.ts';
import { RemoteOfferRepository, type RemoteOfferRow } from '../state/remote-offers.ts';
import { RelationRepository } from '../state/relations.ts';
import { UserRepository } from '../state/users.ts';
import type { SecretCipher } from '../state/secrets-crypto.ts';
import { Reads, type RelationEndpoint } from '../state/rows.ts';
import { Models } from './models.ts';
import { NOT_REGISTERED, Offers, consumerProxyName, sideOf, offerMeta, type OfferCaller } from './offers.ts';

/** A relation with another controller's offer, as the consuming side's worker sees it. */
export type RemoteLink =
  | { relationId: number; peerRelationId: number; alive: boolean; local: RelationEndpoint; offerEndpoint: string }
  | { relationId: number; peerRelationId: number; alive: false; local?: undefined };

/** A consuming controller calling with its credential for one offer. */
export interface OfferPrincipal {
  kind: 'offer';
  offerModel: string;
  offerName: string;
  /** The user who consumed the offer: its access to the offer is checked on every call. */
  user: string;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const sealLabel = (model: string, name: string) => `remote-offer:${model}:${name}`;

/**
 * Offers across controllers (issue 20). The consuming controller holds a credential for one
 * offer, minted by the offering controller for a user who may consume it (`consume
 * ctrl:admin/model.offer` asks for it with that user's login and hands it to the consuming
 * controller, sealed there with its secrets key). Its remote-relations worker is the only one
 * to dial: it registers each relation with the offering controller, then exchanges the two
 * sides (units in scope and their bags) every second. Each controller keeps the other's side
 * (`remote_sides`), renamed to its own name for the other application, and its agents read
 * it as they read a linked relation's other model; nothing else about relations changes.
 */
export class RemoteOffers {
  private readonly repo: RemoteOfferRepository;
  private readonly offersRepo: OfferRepository;
  private readonly reads: Reads;
  private readonly users: UserRepository;
  private readonly offers: Offers;
  private readonly models: Models;

  constructor(private readonly s: Store, private readonly cipher: SecretCipher) {
    this.repo = new RemoteOfferRepository(s);
    this.offersRepo = new OfferRepository(s);
    this.reads = new Reads(s);
    this.users = new UserRepository(s);
    this.offers = new Offers(s);
    this.models = new Models(s);
  }

  // ---- The offering controller ----

  /**
   * A credential for the consuming controller `consumer`, for an offer `caller` may consume,
   * with what it needs to relate to the offer (its endpoints, the offered metadata).
   */
  mintToken(caller: OfferCaller, url: string, consumer: string): OfferConsumerToken {
    return this.s.tx(() => {
      const { offer } = this.offers.consumable(caller, url);
      const token = randomBytes(32).toString('base64url');
      this.repo.addToken({ hash: hashOf(token), offerModel: offer.model, offerName: offer.name, user: caller.name, consumer: consumer.slice(0, 200), created: Date.now() });
      const info = this.offers.show(caller, url);
      const app = this.reads.mustApp(offer.model, offer.app);
      const meta = offerMeta(this.reads.charm(offer.model, app.charmUrl).charm.meta, offer.endpoints);
      return { token, model: offer.model, name: offer.name, app: offer.app, endpoints: info.endpoints, meta: JSON.stringify(meta) };
    });
  }

  /** The caller a credential names, while its user may still consume the offer; undefined otherwise. */
  principal(token: string): OfferPrincipal | undefined {
    const t = this.repo.token(hashOf(token));
    if (!t) return undefined;
    const user = this.users.get(t.user);
    if (!user || user.disabled) return undefined;
    const access = this.offers.accessFor({ name: user.name, superuser: user.superuser }, t.offerModel, t.offerName);
    if (access !== 'consume' && access !== 'admin') return undefined;
    return { kind: 'offer', offerModel: t.offerModel, offerName: t.offerName, user: t.user };
  }

  /**
   * The consuming controller's relation, mirrored here: the offered application related to
   * the consumer's proxy (`remote-<hash>`, as for a consumer in another model). The same
   * consumer and endpoints again get the same relation (a retried registration).
   */
  registerRelation(p: OfferPrincipal, consumer: { model: string; app: string; endpoint: { name: string; role: string; interface: string } }, offerEndpoint: string): { relationId: number } {
    return this.s.tx(() => {
      const offer = this.offersRepo.offer(p.offerModel, p.offerName);
      if (!offer) throw new SigilError('not-found', `offer ${formatOfferUrl({ user: OFFER_OWNER, model: p.offerModel, name: p.offerName })} has been removed`, 'remove the remote application on the consuming side (`sigil remove-saas`)');
      this.models.mustBeAlive(offer.model);
      if (!offer.endpoints.includes(offerEndpoint)) throw new SigilError('invalid-endpoint', `offer ${offer.name} has no endpoint "${offerEndpoint}"`, `the offer's endpoints: ${offer.endpoints.join(', ')}`);
      const app = this.reads.mustApp(offer.model, offer.app);
      const meta = this.reads.charm(offer.model, app.charmUrl).charm.meta;
      const ours = meta.provides[offerEndpoint] ?? meta.requires[offerEndpoint];
      const theirs = consumer.endpoint;
      if (!ours || ours.interface !== theirs.interface || ours.role === theirs.role || (theirs.role !== 'provider' && theirs.role !== 'requirer')) {
        throw new SigilError('no-relation', `the consumer's endpoint ${consumer.app}:${theirs.name} (${theirs.interface}, ${theirs.role}) does not fit ${offer.app}:${offerEndpoint}`, 'relate an endpoint of the offered interface and the opposite role');
      }
      checkApplicationName(consumer.app);
      const proxy = consumerProxyName(consumer.model, consumer.app);
      const theirSpec: EndpointSpec = { name: theirs.name, role: theirs.role as EndpointSpec['role'], interface: theirs.interface, scope: 'global', optional: false };
      const key = relationKey({ app: offer.app, spec: ours }, { app: proxy, spec: theirSpec });
      const existing = this.reads.relations(offer.model).find((r) => r.key === key);
      if (existing) {
        if (existing.life !== 'alive') throw new SigilError('conflict', `relation "${key}" is being removed`, 'wait for it to go, then relate again');
        return { relationId: existing.id };
      }
      const ep = (a: string, spec: EndpointSpec): RelationEndpoint => ({ app: a, name: spec.name, role: spec.role as RelationEndpoint['role'], interface: spec.interface, scope: 'global' });
      const id = new RelationRepository(this.s).nextId(offer.model);
      this.offersRepo.addRelation(offer.model, id, key, [ep(offer.app, ours), ep(proxy, theirSpec)]);
      this.offersRepo.addLink({ model: offer.model, relationId: id, peerModel: '', peerRelationId: NOT_REGISTERED, offerModel: offer.model, offerName: offer.name, remoteApp: proxy, peerApp: consumer.app });
      this.s.changed(offer.model, 'relation', String(id));
      this.s.changed(offer.model, 'application', offer.app);
      return { relationId: id };
    });
  }

  /**
   * One exchange: stores the consumer's side of relation `id` (renamed to its proxy) and
   * answers with this side and the offered application's status. A consumer whose relation
   * is dying takes this one with it.
   */
  sync(p: OfferPrincipal, id: number, theirs: RemoteSide): RemoteSyncReply {
    return this.s.tx(() => {
      const link = this.offersRepo.link(p.offerModel, id);
      const rel = this.reads.relation(p.offerModel, id);
      if (!link || link.peerModel !== '' || link.offerName !== p.offerName || !rel) return { life: 'dead', scope: [], settings: [] };
      const proxy = link.remoteApp;
      const renamed = sideOf(link.peerApp, proxy, theirs.life === 'dead' ? [] : theirs.scope, theirs.life === 'dead' ? [] : theirs.settings);
      const side = { life: theirs.life, scope: renamed.scope.sort(), settings: renamed.settings };
      if (this.repo.setSide(p.offerModel, id, side)) this.s.changed(p.offerModel, 'relation', String(id));
      if (theirs.life !== 'alive' && rel.life === 'alive') this.offers.killRelation(p.offerModel, id);
      const offered = rel.endpoints.find((e) => e.app !== proxy)?.app ?? '';
      const status = this.appStatus(p.offerModel, p.offerName);
      return { ...this.ownSide(p.offerModel, id, offered), ...(status ? { appStatus: status } : {}) };
    });
  }

  private appStatus(model: string, offerName: string): { current: string; message?: string } | undefined {
    const offer = this.offersRepo.offer(model, offerName);
    const app = offer ? this.reads.app(model, offer.app) : undefined;
    if (!offer || !app) return undefined;
    const units = this.reads.units(model, offer.app);
    const st = app.status ?? units.map((u) => u.workload).find((w) => w.current !== 'active') ?? units[0]?.workload;
    return st ? { current: st.current, ...(st.message ? { message: st.message } : {}) } : undefined;
  }

  /** This controller's side of a linked relation: `app`'s units in scope and their bags, and the relation's life. */
  ownSide(model: string, id: number, app: string): RemoteSide {
    const rel = this.reads.relation(model, id);
    if (!rel) return { life: 'dead', scope: [], settings: [] };
    return { life: rel.life === 'alive' ? 'alive' : 'dying', ...sideOf(app, app, this.reads.relationScope(model, id), this.reads.relationSettings(model, id)) };
  }

  // ---- The consuming controller ----

  /**
   * `consume ctrl:admin/model.offer [ALIAS]`: the offer of another controller becomes a remote
   * application of `model`, with the credential the offering controller minted (sealed here).
   */
  consume(model: string, req: ConsumeRemoteRequest): { alias: string; url: string } {
    return this.s.tx(() => {
      this.models.mustBeAlive(model);
      const url = `${req.controller}:${formatOfferUrl({ user: OFFER_OWNER, model: req.offer.model, name: req.offer.name })}`;
      const alias = checkApplicationName(req.alias ?? req.offer.name);
      const offerModel = `${req.controller}:${req.offer.model}`;
      const saas = this.offersRepo.saas(model, alias);
      if (saas) {
        if (saas.offerModel === offerModel && saas.offerName === req.offer.name) return { alias, url };
        throw new SigilError('already-exists', `saas application "${alias}" already exists`, `consume it under another name: \`sigil consume ${url} OTHER-NAME\``);
      }
      if (this.reads.app(model, alias)) throw new SigilError('already-exists', `application "${alias}" already exists in model "${model}"`, `consume the offer under another name: \`sigil consume ${url} OTHER-NAME\``);
      let meta: CharmMeta;
      try {
        meta = JSON.parse(req.offer.meta) as CharmMeta;
      } catch {
        throw new SigilError('bad-request', 'the offer\'s metadata is not JSON', 'consume the offer again with `sigil consume`');
      }
      if (typeof meta !== 'object' || meta === null || typeof meta.provides !== 'object' || typeof meta.requires !== 'object') {
        throw new SigilError('bad-request', 'the offer\'s metadata has no provides and requires', 'consume the offer again with `sigil consume`');
      }
      this.offersRepo.addSaas(model, alias, offerModel, req.offer.name);
      this.repo.addRemoteOffer({
        model, name: alias, controller: req.controller, offerModel: req.offer.model, offerName: req.offer.name, offerApp: req.offer.app,
        endpoints: req.offer.endpoints, meta: req.offer.meta, apiUrls: req.apiUrls, caCert: req.caCert,
        token: this.cipher.seal(Buffer.from(req.token, 'utf8'), sealLabel(model, alias)), created: Date.now(),
      });
      return { alias, url };
    });
  }

  /** The consumed offers of other controllers, with their credentials opened: the worker's list. */
  consumed(): (RemoteOfferRow & { credential: string })[] {
    return this.repo.allRemoteOffers().map((r) => ({ ...r, credential: this.cipher.open(r.token, sealLabel(r.model, r.name)).toString('utf8') }));
  }

  /**
   * The relations of `model` with the remote application `alias` (this controller consuming):
   * live ones with their endpoints, and those gone here that the offering side must hear of.
   */
  links(model: string, alias: string): RemoteLink[] {
    const out: RemoteLink[] = [];
    for (const l of this.offersRepo.links(model)) {
      if (l.peerModel !== '' || l.remoteApp !== alias) continue;
      const rel = this.reads.relation(model, l.relationId);
      const local = rel?.endpoints.find((e) => e.app !== alias);
      const remote = rel?.endpoints.find((e) => e.app === alias);
      out.push(rel && local && remote
        ? { relationId: l.relationId, peerRelationId: l.peerRelationId, alive: rel.life === 'alive', local, offerEndpoint: remote.name }
        : { relationId: l.relationId, peerRelationId: l.peerRelationId, alive: false });
    }
    return out;
  }

  /** The consuming model's uuid: the offering side names its proxy after it, as for a model of its own. */
  modelUuid(model: string): string {
    return this.models.mustGet(model).uuid;
  }

  /** A remote offer removed with `remove-saas` is forgotten once the offering side heard of its last relation. */
  dropIfUnused(model: string, alias: string): void {
    this.s.tx(() => {
      if (this.offersRepo.saas(model, alias)) return;
      if (this.offersRepo.links(model).some((l) => l.peerModel === '' && l.remoteApp === alias)) return;
      this.repo.removeRemoteOffer(model, alias);
    });
  }

  /** A link whose relation is gone here: dropped once the offering controller was told. */
  forget(model: string, relationId: number): void {
    this.s.tx(() => {
      this.offersRepo.removeLink(model, relationId);
      this.repo.removeSide(model, relationId);
    });
  }

  registered(model: string, relationId: number, peerRelationId: number): void {
    this.repo.setPeerRelationId(model, relationId, peerRelationId);
  }

  /**
   * The offering controller's answer: its side (renamed to the alias) for this model's agents,
   * the offered application's status for `status`, and the relation's end if it ended there.
   */
  apply(model: string, alias: string, relationId: number, reply: RemoteSyncReply): void {
    this.s.tx(() => {
      const row = this.repo.remoteOffer(model, alias);
      if (!row) return;
      const renamed = sideOf(row.offerApp, alias, reply.scope, reply.settings);
      const side = { life: reply.life, scope: renamed.scope.sort(), settings: renamed.settings };
      if (this.repo.setSide(model, relationId, side)) this.s.changed(model, 'relation', String(relationId));
      if (reply.life !== 'alive') this.offers.killRelation(model, relationId);
      this.repo.setRemoteState(model, alias, reply.appStatus ? JSON.stringify(reply.appStatus) : undefined, '');
    });
  }

  /** Why the last exchange with the offering controller failed (shown in status). */
  failed(model: string, alias: string, error: string): void {
    this.repo.setRemoteState(model, alias, undefined, error.slice(0, 300));
  }
}

import type { Store } from '../store/store.ts';
import type { RelationEndpoint } from './rows.ts';

/** An offer as stored: the application it exposes and which of its endpoints. */
export interface OfferRow {
  model: string;
  name: string;
  app: string;
  endpoints: string[];
  created: number;
}

/** A consumed offer in the consuming model (Juju's SAAS): its alias and the offer it names. */
export interface SaasRow {
  model: string;
  name: string;
  offerModel: string;
  offerName: string;
  created: number;
}

/** One side of a cross-model relation: this model's relation and its counterpart in the other model. */
export interface RelationLink {
  model: string;
  relationId: number;
  peerModel: string;
  peerRelationId: number;
  offerModel: string;
  offerName: string;
  /** This model's name for the other side: the consumer's alias of the offer, or `remote-…` in the offering model. */
  remoteApp: string;
  /** The other side's application in its own model. */
  peerApp: string;
}

type OfferRaw = Omit<OfferRow, 'endpoints'> & { endpoints: string };
type SaasRaw = { model: string; name: string; offer_model: string; offer_name: string; created: number };
type LinkRaw = { model: string; relation_id: number; peer_model: string; peer_relation_id: number; offer_model: string; offer_name: string; remote_app: string; peer_app: string };

const toOffer = (r: OfferRaw): OfferRow => ({ ...r, endpoints: JSON.parse(r.endpoints) as string[] });
const toSaas = (r: SaasRaw): SaasRow => ({ model: r.model, name: r.name, offerModel: r.offer_model, offerName: r.offer_name, created: r.created });
const toLink = (r: LinkRaw): RelationLink => ({ model: r.model, relationId: r.relation_id, peerModel: r.peer_model, peerRelationId: r.peer_relation_id, offerModel: r.offer_model, offerName: r.offer_name, remoteApp: r.remote_app, peerApp: r.peer_app });

/** Every SQL statement about offers, consumed offers and cross-model relation links. */
export class OfferRepository {
  constructor(private readonly s: Store) {}

  offer(model: string, name: string): OfferRow | undefined {
    const r = this.s.db.prepare('SELECT model, name, app, endpoints, created FROM offers WHERE model = ? AND name = ?').get(model, name) as OfferRaw | undefined;
    return r ? toOffer(r) : undefined;
  }

  offers(model?: string): OfferRow[] {
    const rows = model === undefined
      ? this.s.db.prepare('SELECT model, name, app, endpoints, created FROM offers ORDER BY model, name').all()
      : this.s.db.prepare('SELECT model, name, app, endpoints, created FROM offers WHERE model = ? ORDER BY name').all(model);
    return (rows as OfferRaw[]).map(toOffer);
  }

  addOffer(o: Omit<OfferRow, 'created'>): void {
    this.s.db.prepare('INSERT INTO offers (model, name, app, endpoints, created) VALUES (?, ?, ?, ?, ?)').run(o.model, o.name, o.app, JSON.stringify(o.endpoints), Date.now());
    this.s.changed(o.model, 'offer', o.name);
  }

  /** Juju's offer on an existing offer name for the same application: adds endpoints. */
  setOfferEndpoints(model: string, name: string, endpoints: string[]): void {
    this.s.db.prepare('UPDATE offers SET endpoints = ? WHERE model = ? AND name = ?').run(JSON.stringify(endpoints), model, name);
    this.s.changed(model, 'offer', name);
  }

  removeOffer(model: string, name: string): void {
    this.s.db.prepare('DELETE FROM offers WHERE model = ? AND name = ?').run(model, name);
    this.s.db.prepare('DELETE FROM offer_access WHERE offer_model = ? AND offer_name = ?').run(model, name);
    this.s.db.prepare('DELETE FROM offer_tokens WHERE offer_model = ? AND offer_name = ?').run(model, name);
    this.s.changed(model, 'offer', name, 'remove');
  }

  /** A user's explicit access to an offer (`grant USER consume URL`), if any. */
  access(model: string, name: string, user: string): string | undefined {
    const r = this.s.db.prepare('SELECT access FROM offer_access WHERE offer_model = ? AND offer_name = ? AND user = ?').get(model, name, user) as { access: string } | undefined;
    return r?.access;
  }

  setAccess(model: string, name: string, user: string, access: string | undefined): void {
    if (access === undefined) this.s.db.prepare('DELETE FROM offer_access WHERE offer_model = ? AND offer_name = ? AND user = ?').run(model, name, user);
    else this.s.db.prepare('INSERT INTO offer_access (offer_model, offer_name, user, access) VALUES (?, ?, ?, ?) ON CONFLICT (offer_model, offer_name, user) DO UPDATE SET access = excluded.access').run(model, name, user, access);
    this.s.changed(model, 'offer', name);
  }

  saas(model: string, name: string): SaasRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM saas WHERE model = ? AND name = ?').get(model, name) as SaasRaw | undefined;
    return r ? toSaas(r) : undefined;
  }

  saasList(model: string): SaasRow[] {
    return (this.s.db.prepare('SELECT * FROM saas WHERE model = ? ORDER BY name').all(model) as SaasRaw[]).map(toSaas);
  }

  /** The consuming model's aliases of an offer. */
  saasOf(offerModel: string, offerName: string): SaasRow[] {
    return (this.s.db.prepare('SELECT * FROM saas WHERE offer_model = ? AND offer_name = ? ORDER BY model, name').all(offerModel, offerName) as SaasRaw[]).map(toSaas);
  }

  addSaas(model: string, name: string, offerModel: string, offerName: string): void {
    this.s.db.prepare('INSERT INTO saas (model, name, offer_model, offer_name, created) VALUES (?, ?, ?, ?, ?)').run(model, name, offerModel, offerName, Date.now());
    this.s.changed(model, 'saas', name);
  }

  removeSaas(model: string, name: string): void {
    this.s.db.prepare('DELETE FROM saas WHERE model = ? AND name = ?').run(model, name);
    this.s.changed(model, 'saas', name, 'remove');
  }

  link(model: string, relationId: number): RelationLink | undefined {
    const r = this.s.db.prepare('SELECT * FROM relation_links WHERE model = ? AND relation_id = ?').get(model, relationId) as LinkRaw | undefined;
    return r ? toLink(r) : undefined;
  }

  links(model: string): RelationLink[] {
    return (this.s.db.prepare('SELECT * FROM relation_links WHERE model = ? ORDER BY relation_id').all(model) as LinkRaw[]).map(toLink);
  }

  /** The links of an offer's relations, as seen from the offering model. */
  offerLinks(offerModel: string, offerName: string): RelationLink[] {
    return (this.s.db.prepare('SELECT * FROM relation_links WHERE model = ? AND offer_model = ? AND offer_name = ? ORDER BY relation_id').all(offerModel, offerModel, offerName) as LinkRaw[]).map(toLink);
  }

  addLink(l: RelationLink): void {
    this.s.db.prepare('INSERT INTO relation_links (model, relation_id, peer_model, peer_relation_id, offer_model, offer_name, remote_app, peer_app) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(l.model, l.relationId, l.peerModel, l.peerRelationId, l.offerModel, l.offerName, l.remoteApp, l.peerApp);
  }

  removeLink(model: string, relationId: number): void {
    this.s.db.prepare('DELETE FROM relation_links WHERE model = ? AND relation_id = ?').run(model, relationId);
  }

  /**
   * One side of a new cross-model relation. The caller links the two sides and records the
   * changes of both models once they are.
   */
  addRelation(model: string, id: number, key: string, endpoints: RelationEndpoint[]): void {
    this.s.db.prepare("INSERT INTO relations (model, id, key, life, endpoints) VALUES (?, ?, ?, 'alive', ?)").run(model, id, key, JSON.stringify(endpoints));
  }
}

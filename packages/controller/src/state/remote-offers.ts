import type { Store } from '../store/store.ts';
import type { SettingsRow } from './rows.ts';

/** An offering controller's credential for one offer, as stored there (its hash only). */
export interface OfferTokenRow {
  hash: string;
  offerModel: string;
  offerName: string;
  /** The user who consumed the offer: the credential is good while that user may consume it. */
  user: string;
  /** Who holds it: the consuming controller and model, for show-offer. */
  consumer: string;
  created: number;
}

/** A consumed offer of another controller, as the consuming controller keeps it. */
export interface RemoteOfferRow {
  model: string;
  /** The alias in the consuming model (also a `saas` row). */
  name: string;
  controller: string;
  offerModel: string;
  offerName: string;
  offerApp: string;
  /** The offered endpoints: name, interface, role. */
  endpoints: { name: string; interface: string; role: string }[];
  /** The offered application's metadata cut to the offered endpoints (JSON of a CharmMeta). */
  meta: string;
  apiUrls: string[];
  caCert: string;
  /** The credential, sealed with the controller's secrets key. */
  token: Buffer;
  /** The offered application's status as last reported (JSON), or ''. */
  appStatus: string;
  /** Why the last exchange with the offering controller failed, or ''. */
  lastError: string;
  created: number;
}

/** The other controller's side of a linked relation: its units in scope and their bags, named as this model names them. */
export interface RemoteSideRow {
  life: string;
  scope: string[];
  settings: SettingsRow[];
  updated: number;
}

type TokenRaw = { hash: string; offer_model: string; offer_name: string; user: string; consumer: string; created: number };
type RemoteRaw = { model: string; name: string; controller: string; offer_model: string; offer_name: string; offer_app: string; endpoints: string; meta: string; api_urls: string; ca_cert: string; token: Buffer | Uint8Array; app_status: string; last_error: string; created: number };

const toRemote = (r: RemoteRaw): RemoteOfferRow => ({
  model: r.model, name: r.name, controller: r.controller, offerModel: r.offer_model, offerName: r.offer_name, offerApp: r.offer_app,
  endpoints: JSON.parse(r.endpoints) as RemoteOfferRow['endpoints'], meta: r.meta, apiUrls: JSON.parse(r.api_urls) as string[], caCert: r.ca_cert,
  token: Buffer.from(r.token), appStatus: r.app_status, lastError: r.last_error, created: r.created,
});

/** Every SQL statement about offers across controllers: credentials, consumed remote offers, remote sides. */
export class RemoteOfferRepository {
  constructor(private readonly s: Store) {}

  addToken(t: OfferTokenRow): void {
    this.s.db.prepare('INSERT INTO offer_tokens (hash, offer_model, offer_name, user, consumer, created) VALUES (?, ?, ?, ?, ?, ?)').run(t.hash, t.offerModel, t.offerName, t.user, t.consumer, t.created);
  }

  token(hash: string): OfferTokenRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM offer_tokens WHERE hash = ?').get(hash) as TokenRaw | undefined;
    return r ? { hash: r.hash, offerModel: r.offer_model, offerName: r.offer_name, user: r.user, consumer: r.consumer, created: r.created } : undefined;
  }

  addRemoteOffer(o: Omit<RemoteOfferRow, 'appStatus' | 'lastError'>): void {
    this.s.db.prepare('INSERT INTO remote_offers (model, name, controller, offer_model, offer_name, offer_app, endpoints, meta, api_urls, ca_cert, token, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(o.model, o.name, o.controller, o.offerModel, o.offerName, o.offerApp, JSON.stringify(o.endpoints), o.meta, JSON.stringify(o.apiUrls), o.caCert, o.token, o.created);
  }

  remoteOffer(model: string, name: string): RemoteOfferRow | undefined {
    const r = this.s.db.prepare('SELECT * FROM remote_offers WHERE model = ? AND name = ?').get(model, name) as RemoteRaw | undefined;
    return r ? toRemote(r) : undefined;
  }

  /** Every consumed remote offer (every model): what the remote-relations worker keeps in step. */
  allRemoteOffers(): RemoteOfferRow[] {
    return (this.s.db.prepare('SELECT * FROM remote_offers ORDER BY model, name').all() as RemoteRaw[]).map(toRemote);
  }

  /** Records the outcome of an exchange: the offered application's status, and the error if it failed. */
  setRemoteState(model: string, name: string, appStatus: string | undefined, lastError: string): void {
    const r = this.remoteOffer(model, name);
    if (!r || (r.lastError === lastError && (appStatus === undefined || r.appStatus === appStatus))) return;
    this.s.db.prepare('UPDATE remote_offers SET app_status = ?, last_error = ? WHERE model = ? AND name = ?').run(appStatus ?? r.appStatus, lastError, model, name);
    this.s.changed(model, 'saas', name);
  }

  removeRemoteOffer(model: string, name: string): void {
    this.s.db.prepare('DELETE FROM remote_offers WHERE model = ? AND name = ?').run(model, name);
  }

  side(model: string, relationId: number): RemoteSideRow | undefined {
    const r = this.s.db.prepare('SELECT life, scope, settings, updated FROM remote_sides WHERE model = ? AND relation_id = ?').get(model, relationId) as { life: string; scope: string; settings: string; updated: number } | undefined;
    return r ? { life: r.life, scope: JSON.parse(r.scope) as string[], settings: JSON.parse(r.settings) as SettingsRow[], updated: r.updated } : undefined;
  }

  /** Stores the other side; false (and nothing written) when it is what was stored already. */
  setSide(model: string, relationId: number, side: Omit<RemoteSideRow, 'updated'>): boolean {
    const scope = JSON.stringify(side.scope);
    const settings = JSON.stringify(side.settings);
    const old = this.s.db.prepare('SELECT life, scope, settings FROM remote_sides WHERE model = ? AND relation_id = ?').get(model, relationId) as { life: string; scope: string; settings: string } | undefined;
    if (old && old.life === side.life && old.scope === scope && old.settings === settings) return false;
    this.s.db.prepare('INSERT INTO remote_sides (model, relation_id, life, scope, settings, updated) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, relation_id) DO UPDATE SET life = excluded.life, scope = excluded.scope, settings = excluded.settings, updated = excluded.updated')
      .run(model, relationId, side.life, scope, settings, Date.now());
    return true;
  }

  removeSide(model: string, relationId: number): void {
    this.s.db.prepare('DELETE FROM remote_sides WHERE model = ? AND relation_id = ?').run(model, relationId);
  }

  setPeerRelationId(model: string, relationId: number, peerRelationId: number): void {
    this.s.db.prepare('UPDATE relation_links SET peer_relation_id = ? WHERE model = ? AND relation_id = ?').run(peerRelationId, model, relationId);
  }
}

// Offers across controllers against two real stores (issue 20): the offering controller's
// credential and when it stops working, registering a relation (idempotent, refusing what
// does not fit), and the exchanges the consuming controller's worker makes: each side renamed
// to the other's name for it, and a relation that ends on one side ending on the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigilError } from '@sigil/core';
import type { RemoteSyncReply } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from '../apiserver/test-server.ts';
import { NOT_REGISTERED, consumerProxyName, type OfferCaller } from './offers.ts';
import type { OfferPrincipal } from './remote-offers.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const DB = 'name: db\nsummary: s\ndescription: d\nprovides:\n  server: {interface: tok}\n';
const CLIENT = 'name: client\nsummary: s\ndescription: d\nrequires:\n  backend: {interface: tok}\n  other: {interface: nope}\n';
const bob: OfferCaller = { name: 'bob', superuser: false };
const URL = 'admin/m.db';

let offering: TestServer;
let consuming: TestServer;
let a: Services;
let b: Services;

const refusal = (f: () => unknown): SigilError => {
  try {
    f();
  } catch (e) {
    if (e instanceof SigilError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

beforeAll(async () => {
  offering = await startTestServer('admin', (s) => {
    const db = s.charms.add('m', files(DB)).url;
    s.applications.deploy({ model: 'm', app: 'db', charmUrl: db, numUnits: 1, config: {}, constraints: '', to: [] });
    s.offers.offer('m', 'db:server');
    s.users.add('bob', '', 'admin');
  });
  consuming = await startTestServer('admin', (s) => {
    const client = s.charms.add('m', files(CLIENT)).url;
    s.applications.deploy({ model: 'm', app: 'app', charmUrl: client, numUnits: 1, config: {}, constraints: '', to: [] });
  });
  a = offering.svc;
  b = consuming.svc;
});

afterAll(async () => {
  await offering.close();
  await consuming.close();
});

describe('the offering controller\'s credential', () => {
  it('is minted only for a user who may consume the offer, and works while that user may', () => {
    expect(refusal(() => a.remoteOffers.mintToken(bob, URL, 'other:m')).code).toBe('not-found');
    a.offers.grant({ name: 'admin', superuser: true }, 'bob', 'consume', URL);
    const minted = a.remoteOffers.mintToken(bob, URL, 'other:m');
    expect(minted).toMatchObject({ model: 'm', name: 'db', app: 'db', endpoints: [{ name: 'server', interface: 'tok', role: 'provider' }] });
    expect(JSON.parse(minted.meta)).toMatchObject({ provides: { server: { interface: 'tok' } }, requires: {}, peers: {} });
    expect(a.remoteOffers.principal(minted.token)).toEqual({ kind: 'offer', offerModel: 'm', offerName: 'db', user: 'bob' });
    // Only its hash is kept.
    expect(JSON.stringify(a.store.db.prepare('SELECT * FROM offer_tokens').all())).not.toContain(minted.token);
    a.offers.revoke({ name: 'admin', superuser: true }, 'bob', 'consume', URL);
    expect(a.remoteOffers.principal(minted.token)).toBeUndefined();
    a.offers.grant({ name: 'admin', superuser: true }, 'bob', 'consume', URL);
    expect(a.remoteOffers.principal(minted.token)).toBeDefined();
    a.users.setDisabled('bob', true);
    expect(a.remoteOffers.principal(minted.token)).toBeUndefined();
    a.users.setDisabled('bob', false);
    expect(a.remoteOffers.principal('not-a-credential')).toBeUndefined();
  });
});

describe('a relation across controllers', () => {
  let principal: OfferPrincipal;
  let idA: number;
  let idB: number;

  it('is consumed and related on the consuming side, then registered once on the offering side', () => {
    const minted = a.remoteOffers.mintToken(bob, URL, 'other:m');
    principal = a.remoteOffers.principal(minted.token)!;
    const req = { controller: 'off', apiUrls: ['https://127.0.0.1:1'], caCert: 'PEM', token: minted.token, offer: { model: minted.model, name: minted.name, app: minted.app, endpoints: minted.endpoints, meta: minted.meta } };
    expect(b.remoteOffers.consume('m', req)).toEqual({ alias: 'db', url: 'off:admin/m.db' });
    // Again under the same alias: nothing new.
    expect(b.remoteOffers.consume('m', req)).toEqual({ alias: 'db', url: 'off:admin/m.db' });
    // The credential is sealed in the consuming store.
    expect(JSON.stringify(b.store.db.prepare('SELECT * FROM remote_offers').all())).not.toContain(minted.token);
    expect(b.remoteOffers.consumed()[0]?.credential).toBe(minted.token);
    expect(refusal(() => b.relations.integrate('m', 'app:other', 'db')).code).toBe('no-relation');
    idB = b.relations.integrate('m', 'app', 'db').id;
    expect(b.remoteOffers.links('m', 'db')).toEqual([{ relationId: idB, peerRelationId: NOT_REGISTERED, alive: true, local: expect.objectContaining({ app: 'app', name: 'backend' }), offerEndpoint: 'server' }]);

    const consumer = { model: b.remoteOffers.modelUuid('m'), app: 'app', endpoint: { name: 'backend', role: 'requirer', interface: 'tok' } };
    const before = a.reads.relations('m').length;
    expect(refusal(() => a.remoteOffers.registerRelation(principal, { ...consumer, endpoint: { ...consumer.endpoint, interface: 'nope' } }, 'server')).code).toBe('no-relation');
    expect(refusal(() => a.remoteOffers.registerRelation(principal, consumer, 'nosuch')).code).toBe('invalid-endpoint');
    expect(a.reads.relations('m')).toHaveLength(before);
    idA = a.remoteOffers.registerRelation(principal, consumer, 'server').relationId;
    expect(a.remoteOffers.registerRelation(principal, consumer, 'server').relationId).toBe(idA);
    expect(a.reads.relation('m', idA)?.endpoints.map((e) => e.app)).toEqual(['db', consumerProxyName(consumer.model, 'app')]);
    b.remoteOffers.registered('m', idB, idA);
  });

  it('exchanges both sides, each renamed to the other controller\'s name for it', () => {
    const proxy = consumerProxyName(b.remoteOffers.modelUuid('m'), 'app');
    const reply = a.remoteOffers.sync(principal, idA, {
      life: 'alive',
      scope: ['app/0', 'intruder/0'],
      settings: [{ owner: 'app/0', isApp: false, data: '{"want":"tokens"}', version: 3 }, { owner: 'app', isApp: true, data: '{"n":"1"}', version: 1 }, { owner: 'intruder/0', isApp: false, data: '{}', version: 1 }],
    });
    expect(reply).toMatchObject({ life: 'alive', scope: [], settings: [] });
    // The offering side's units read the consumer's units under the proxy's name; nothing else it sent.
    expect(a.offers.peerData('m', idA)).toEqual({
      scope: [`${proxy}/0`],
      settings: [{ owner: `${proxy}/0`, isApp: false, data: '{"want":"tokens"}', version: 3 }, { owner: proxy, isApp: true, data: '{"n":"1"}', version: 1 }],
    });
    // The consuming side applies the offering side's answer under its alias.
    const answer: RemoteSyncReply = { life: 'alive', scope: ['db/0'], settings: [{ owner: 'db/0', isApp: false, data: '{"token":"abc"}', version: 2 }, { owner: 'db', isApp: true, data: '{}', version: 1 }], appStatus: { current: 'active', message: 'ready' } };
    b.remoteOffers.apply('m', 'db', idB, answer);
    expect(b.offers.peerData('m', idB)).toEqual({ scope: ['db/0'], settings: [{ owner: 'db/0', isApp: false, data: '{"token":"abc"}', version: 2 }, { owner: 'db', isApp: true, data: '{}', version: 1 }] });
    const revision = b.store.revision();
    b.remoteOffers.apply('m', 'db', idB, answer);
    expect(b.store.revision()).toBe(revision);
  });

  it('ends on the offering side when the consuming side\'s relation is dying, and the other way round', () => {
    expect(a.remoteOffers.sync(principal, idA, { life: 'dying', scope: [], settings: [] }).life).toBe('dying');
    expect(a.reads.relation('m', idA)?.life).toBe('dying');
    b.remoteOffers.apply('m', 'db', idB, { life: 'dead', scope: [], settings: [] });
    expect(b.reads.relation('m', idB)?.life).toBe('dying');
    // A relation the credential's offer has no link to is dead to it.
    expect(a.remoteOffers.sync(principal, 12345, { life: 'alive', scope: [], settings: [] })).toEqual({ life: 'dead', scope: [], settings: [] });
  });
});

// Offers across models against a real store (issue 20): Juju's rules for offering,
// consuming and removing offers, the access a consumer needs, and a cross-model relation
// as each side's units see it. Refusals change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigilError, type CharmMeta } from '@sigil/core';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from '../apiserver/test-server.ts';
import { buildStatus } from './status.ts';
import { consumerProxyName, offerMeta, offerableEndpoint, type OfferCaller } from './offers.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const DB = `name: db
summary: s
description: d
provides:
  server: {interface: tok}
  metrics: {interface: prom}
requires:
  logs: {interface: logging, scope: container}
peers:
  cluster: {interface: db-peers}
`;
const CLIENT = `name: client
summary: s
description: d
requires:
  backend: {interface: tok}
`;

const admin: OfferCaller = { name: 'admin', superuser: true };
const bob: OfferCaller = { name: 'bob', superuser: false };
let server: TestServer;
let svc: Services;

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
  server = await startTestServer('admin', (s) => {
    s.models.add('c');
    const db = s.charms.add('m', files(DB)).url;
    s.applications.deploy({ model: 'm', app: 'db', charmUrl: db, numUnits: 1, config: {}, constraints: '', to: [] });
    const client = s.charms.add('c', files(CLIENT)).url;
    s.applications.deploy({ model: 'c', app: 'app', charmUrl: client, numUnits: 1, config: {}, constraints: '', to: [] });
    s.users.add('bob', '', 'admin');
    s.users.grant('bob', 'c', 'write');
  });
  ({ svc } = server);
});

afterAll(() => server.close());

const status = (model: string) => buildStatus(svc.store, model, 'test', { connected: () => true });

describe('offer', () => {
  it('refuses an endpoint that is not a provides/requires endpoint, or is container-scoped, and stores nothing', () => {
    for (const [spec, message] of [['db:nothing', /has no "nothing" provides or requires endpoint/], ['db:cluster', /has no "cluster"/], ['db:logs', /container-scoped/], ['nosuch:server', /application "nosuch" not found/]] as const) {
      const e = refusal(() => svc.offers.offer('m', spec, 'x'));
      expect(e.message).toMatch(message);
      expect(e.hint).toBeTruthy();
    }
    expect(svc.offers.find(admin)).toEqual([]);
  });

  it('returns the URL; offering more endpoints under the same name adds them', () => {
    expect(svc.offers.offer('m', 'db:server', 'hosted-db')).toEqual({ url: 'admin/m.hosted-db', app: 'db', endpoints: ['server'] });
    expect(svc.offers.offer('m', 'db:metrics', 'hosted-db').endpoints).toEqual(['server', 'metrics']);
    const [found] = svc.offers.find(admin);
    expect(found).toMatchObject({ url: 'admin/m.hosted-db', app: 'db', access: 'admin', endpoints: [{ name: 'server', interface: 'tok', role: 'provider' }, { name: 'metrics', interface: 'prom', role: 'provider' }] });
  });
});

describe('consume and access', () => {
  it('an offer that does not exist, or is not granted, is not found (with a hint at grant), and nothing is added', () => {
    const missing = refusal(() => svc.offers.consume(admin, 'c', 'admin/m.nothing'));
    expect([missing.code, missing.message]).toEqual(['not-found', 'application offer "admin/m.nothing" not found']);
    const ungranted = refusal(() => svc.offers.consume(bob, 'c', 'admin/m.hosted-db'));
    expect(ungranted.message).toBe('application offer "admin/m.hosted-db" not found');
    expect(ungranted.hint).toContain('sigil grant bob consume admin/m.hosted-db');
    expect(svc.offers.find(bob)).toEqual([]);
    expect(svc.offers.saas('c', 'hosted-db')).toBeUndefined();
    // Only an admin of the offering model grants; to bob, the offer does not exist.
    expect(refusal(() => svc.offers.grant(bob, 'bob', 'consume', 'admin/m.hosted-db')).code).toBe('not-found');
    expect(refusal(() => svc.offers.grant(admin, 'bob', 'write', 'admin/m.hosted-db')).hint).toMatch(/read, consume or admin/);
  });

  it('read access shows the offer but does not let a user consume it; consume does', () => {
    svc.offers.grant(admin, 'bob', 'read', 'admin/m.hosted-db');
    expect(svc.offers.find(bob).map((o) => o.access)).toEqual(['read']);
    expect(refusal(() => svc.offers.consume(bob, 'c', 'admin/m.hosted-db')).code).toBe('not-found');
    svc.offers.grant(admin, 'bob', 'consume', 'admin/m.hosted-db');
    expect(svc.offers.consume(bob, 'c', 'admin/m.hosted-db')).toEqual({ alias: 'hosted-db', url: 'admin/m.hosted-db' });
    // Again under the same alias: nothing to do, as Juju.
    expect(svc.offers.consume(bob, 'c', 'admin/m.hosted-db').alias).toBe('hosted-db');
    // An alias that names a local application, or from the offering model itself, is refused.
    expect(refusal(() => svc.offers.consume(admin, 'c', 'admin/m.hosted-db', 'app')).code).toBe('already-exists');
    expect(refusal(() => svc.offers.consume(admin, 'm', 'admin/m.hosted-db')).code).toBe('bad-request');
  });

  it('remove-application refuses an offered application, and points a SAAS at remove-saas', () => {
    const offered = refusal(() => svc.applications.remove('m', 'db'));
    expect(offered.message).toBe('cannot remove application "db": application is used by 1 offer');
    expect(offered.hint).toContain('sigil remove-offer admin/m.hosted-db');
    expect(svc.reads.app('m', 'db')?.life).toBe('alive');
    expect(refusal(() => svc.applications.remove('c', 'hosted-db')).hint).toContain('sigil remove-saas hosted-db');
  });
});

describe('a relation across models', () => {
  let rel = 0;
  let peerRel = 0;

  it('is one relation in each model, linked; each side sees the other\'s units under its own name for them', () => {
    const r = svc.relations.integrate('c', 'app', 'hosted-db');
    rel = r.id;
    expect(r.endpoints.map((e) => `${e.app}:${e.name}`)).toEqual(['app:backend', 'hosted-db:server']);
    const proxy = consumerProxyName(svc.models.mustGet('c').uuid, 'app');
    const peer = svc.reads.relations('m').find((x) => x.endpoints.some((e) => e.app === proxy))!;
    peerRel = peer.id;
    expect(peer.endpoints.map((e) => `${e.app}:${e.name}`)).toEqual(['db:server', `${proxy}:backend`]);

    svc.agent.enterScope('m', 'db/0', peerRel, '10.0.0.1');
    svc.agent.commit('m', { unit: 'db/0', hook: 'server-relation-joined', relationUnit: { [peerRel]: { host: 'db.example' } }, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [] });
    svc.agent.enterScope('c', 'app/0', rel, '10.0.0.2');
    svc.agent.commit('c', { unit: 'app/0', hook: 'backend-relation-joined', relationUnit: { [rel]: { want: 'tables' } }, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [] });

    const viewOf = (model: string, unit: string) => {
      const u = svc.reads.mustUnit(model, unit);
      return svc.agent.view(model, u.machine!).units.find((x) => x.name === unit)!.relations.find((x) => x.endpoint !== 'cluster')!;
    };
    const consumerSide = viewOf('c', 'app/0');
    expect(consumerSide).toMatchObject({ remoteApp: 'hosted-db', endpoint: 'backend', members: { 'hosted-db/0': 2 } });
    expect(consumerSide.unitData['hosted-db/0']).toMatchObject({ host: 'db.example', 'private-address': '10.0.0.1' });
    const offeringSide = viewOf('m', 'db/0');
    expect(offeringSide).toMatchObject({ remoteApp: proxy, endpoint: 'server', members: { [`${proxy}/0`]: 2 } });
    expect(offeringSide.unitData[`${proxy}/0`]).toMatchObject({ want: 'tables' });
  });

  it('shows in both models\' status with Juju\'s keys', () => {
    const c = status('c');
    expect(c['application-endpoints']['hosted-db']).toMatchObject({ url: 'admin/m.hosted-db', endpoints: { server: { interface: 'tok', role: 'provider' } }, relations: { server: ['app'] } });
    const m = status('m');
    expect(m.offers['hosted-db']).toMatchObject({ application: 'db', 'total-connected-count': 1, 'active-connected-count': 1 });
  });

  it('remove-offer refuses while the relation exists, and changes nothing; --force kills both sides', () => {
    const e = refusal(() => svc.offers.removeOffer(admin, 'c', 'admin/m.hosted-db', false));
    expect(e.message).toBe('cannot delete application offer "admin/m.hosted-db": offer has 1 relation');
    expect(e.hint).toContain('--force');
    expect(refusal(() => svc.offers.removeOffer(bob, 'c', 'admin/m.hosted-db', true)).code).toBe('not-found');
    expect(svc.reads.relation('c', rel)?.life).toBe('alive');
    expect(svc.reads.relation('m', peerRel)?.life).toBe('alive');
    expect(svc.offers.find(admin)).toHaveLength(1);
    svc.offers.removeOffer(admin, 'c', 'admin/m.hosted-db', true);
    expect(svc.reads.relation('c', rel)?.life).toBe('dying');
    expect(svc.reads.relation('m', peerRel)?.life).toBe('dying');
    expect(svc.offers.find(admin)).toEqual([]);
    expect(status('c')['application-endpoints']['hosted-db']?.['application-status'].current).toBe('terminated');
  });
});

describe('pure decisions', () => {
  const meta = { name: 'x', subordinate: true, provides: { a: { name: 'a', role: 'provider', interface: 'i', optional: false, scope: 'global' } }, requires: { b: { name: 'b', role: 'requirer', interface: 'j', optional: false, scope: 'global' } }, peers: { p: { name: 'p', role: 'peer', interface: 'k', optional: false, scope: 'global' } } } as unknown as CharmMeta;

  it('an offer carries only its endpoints, never peers, and is never subordinate', () => {
    const m = offerMeta(meta, ['b']);
    expect([Object.keys(m.provides), Object.keys(m.requires), Object.keys(m.peers), m.subordinate]).toEqual([[], ['b'], [], false]);
    expect(offerableEndpoint('x', meta, 'a').name).toBe('a');
    expect(refusal(() => offerableEndpoint('x', meta, 'p')).hint).toBe('offer a provides or requires endpoint of x: a, b');
  });

  it('names the consumer in the offering model as Juju names its proxies, stably', () => {
    expect(consumerProxyName('uuid-1', 'app')).toMatch(/^remote-[0-9a-f]{32}$/);
    expect(consumerProxyName('uuid-1', 'app')).toBe(consumerProxyName('uuid-1', 'app'));
    expect(consumerProxyName('uuid-2', 'app')).not.toBe(consumerProxyName('uuid-1', 'app'));
  });
});

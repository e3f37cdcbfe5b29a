// The offer routes against a real server: every answer is held to its schema in the API
// contract (the tests run with SIGIL_CHECK_RESPONSES), from offering through find, show,
// grants, consuming (on this controller and from another) and the consuming controller's
// registration and exchange, to removing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferConsumerToken } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const DB = 'name: db\nsummary: s\ndescription: d\nprovides:\n  server: {interface: tok}\n';
const CLIENT = 'name: client\nsummary: s\ndescription: d\nrequires:\n  backend: {interface: tok}\n';
const URL = 'admin/m.db';

let server: TestServer;
let svc: Services;
let url: string;

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    s.applications.deploy({ model: 'm', app: 'db', charmUrl: s.charms.add('m', files(DB)).url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.models.add('c');
    s.applications.deploy({ model: 'c', app: 'app', charmUrl: s.charms.add('c', files(CLIENT)).url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.users.add('bob', '', 'admin');
  });
  ({ svc, url } = server);
});
afterAll(() => server.close());

const call = async <T>(method: string, path: string, body?: unknown, token = 'admin'): Promise<{ status: number; body: T }> => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as T };
};

describe('offers on one controller', () => {
  it('offer, find, show, grant, consume, relate and remove', async () => {
    expect(await call('POST', '/api/models/m/offers', { spec: 'db:server' })).toEqual({ status: 200, body: { url: URL, app: 'db', endpoints: ['server'] } });
    const found = await call('GET', '/api/offers?interface=tok');
    expect(found).toMatchObject({ status: 200, body: { offers: [{ url: URL, app: 'db', access: 'admin', endpoints: [{ name: 'server', interface: 'tok', role: 'provider' }], connections: [] }] } });
    expect((await call('GET', '/api/offers?interface=nope')).body).toEqual({ offers: [] });
    expect(await call('POST', '/api/offers/grant', { user: 'bob', access: 'consume', offers: [URL] })).toEqual({ status: 200, body: { ok: true } });
    expect(await call('POST', '/api/offers/revoke', { user: 'bob', access: 'consume', offers: [URL] })).toEqual({ status: 200, body: { ok: true } });
    expect(await call('POST', '/api/models/c/consume', { url: URL })).toEqual({ status: 200, body: { alias: 'db', url: URL } });
    svc.relations.integrate('c', 'app', 'db');
    const shown = await call('POST', '/api/offers/show', { url: URL });
    expect(shown).toMatchObject({ status: 200, body: { url: URL, connections: [{ model: 'c', app: 'app', status: 'joined' }] } });
    expect(await call('POST', '/api/models/c/saas/remove', { names: ['db'] })).toEqual({ status: 200, body: { ok: true } });
    expect(await call('POST', '/api/offers/remove', { offers: [URL], force: true, model: 'm' })).toEqual({ status: 200, body: { ok: true } });
    expect((await call('POST', '/api/offers/show', { url: URL })).status).toBe(404);
  });
});

describe('offers across controllers', () => {
  it('mint a credential, consume with it, register a relation and exchange both sides', async () => {
    await call('POST', '/api/models/m/offers', { spec: 'db:server' });
    const minted = await call<OfferConsumerToken>('POST', '/api/offers/consumer-token', { url: URL, consumer: 'other:c' });
    expect(minted).toMatchObject({ status: 200, body: { model: 'm', name: 'db', app: 'db', endpoints: [{ name: 'server', interface: 'tok', role: 'provider' }] } });
    const { token, ...offer } = minted.body;
    const consumed = await call('POST', '/api/models/c/consume-remote', { controller: 'off', apiUrls: ['https://127.0.0.1:1'], caCert: 'PEM', token, offer });
    expect(consumed).toEqual({ status: 200, body: { alias: 'db', url: `off:${URL}` } });

    // The consuming controller's worker, with the credential (its model and application are its own names).
    const consumer = { model: 'b7c1e2d0-far-model', app: 'far', endpoint: { name: 'backend', role: 'requirer', interface: 'tok' } };
    const registered = await call<{ relationId: number }>('POST', '/api/remote-relations', { consumer, offerEndpoint: 'server' }, token);
    expect(registered.status).toBe(200);
    const sync = await call('POST', `/api/remote-relations/${registered.body.relationId}/sync`, { life: 'alive', scope: [], settings: [] }, token);
    expect(sync).toMatchObject({ status: 200, body: { life: 'alive', scope: [], settings: [] } });
    expect((await call('POST', '/api/remote-relations/x1/sync', { life: 'alive', scope: [], settings: [] }, token)).status).toBe(400);
    // A user is not a consuming controller.
    expect((await call('POST', '/api/remote-relations', { consumer, offerEndpoint: 'server' })).status).toBe(403);
  });
});

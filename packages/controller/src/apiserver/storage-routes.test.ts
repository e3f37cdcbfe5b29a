// The storage and resource routes against a real server: every answer is held to its schema
// in the API contract (the tests run with SIGIL_CHECK_RESPONSES), through a store's life
// (add, detach, attach, remove) and a resource's upload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const META = `name: store
summary: s
description: d
storage:
  data: {type: filesystem, location: /srv/data}
  cache: {type: filesystem, multiple: {range: 0-2}}
resources:
  theme: {type: file, filename: theme.zip}
`;

let server: TestServer;
let svc: Services;
let url: string;

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const charmUrl = s.charms.add('m', files(META)).url;
    s.applications.deploy({ model: 'm', app: 'st', charmUrl, numUnits: 2, config: {}, constraints: '', to: [] });
  });
  ({ svc, url } = server);
});
afterAll(() => server.close());

const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: 'Bearer admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as T };
};

describe('storage routes', () => {
  it('list the instances and pools, and add, detach, attach and remove instances', async () => {
    const listed = await call<{ storage: { id: string; unit: string; status: string }[] }>('GET', '/api/models/m/storage');
    expect(listed).toMatchObject({ status: 200, body: { storage: [{ id: 'data/0', unit: 'st/0', status: 'pending' }, { id: 'data/1', unit: 'st/1' }] } });
    expect((await call('GET', '/api/models/m/storage-pools')).body).toEqual({ pools: [
      { name: 'loop', provider: 'loop', attributes: {}, kinds: ['filesystem', 'block'] },
      { name: 'rootfs', provider: 'rootfs', attributes: {}, kinds: ['filesystem'] },
    ] });
    expect(await call('POST', '/api/models/m/storage/add', { unit: 'st/0', directives: { cache: { count: 1 } } })).toEqual({ status: 200, body: { ids: ['cache/0'] } });
    expect(await call('POST', '/api/models/m/storage/detach', { ids: ['cache/0'] })).toEqual({ status: 200, body: { ok: true } });
    svc.storage.report('m', 'st/0', 'cache/0', 'detached', '', '');
    expect(await call('POST', '/api/models/m/storage/attach', { unit: 'st/1', ids: ['cache/0'] })).toEqual({ status: 200, body: { ok: true } });
    expect((await call('POST', '/api/models/m/storage/attach', { unit: 'st/1', ids: [] })).status).toBe(400);
    expect(await call('POST', '/api/models/m/storage/remove', { ids: ['cache/0'], noDestroy: true })).toEqual({ status: 200, body: { ok: true } });
  });
});

describe('resource routes', () => {
  it('list an application\'s resources and take an upload as a new revision', async () => {
    expect((await call('GET', '/api/models/m/applications/st/resources')).body).toEqual({ resources: [expect.objectContaining({ name: 'theme', revision: 0, origin: '' })] });
    const up = await call('POST', '/api/models/m/applications/st/resources', { name: 'theme', filename: 'theme.zip', data: Buffer.from('v1').toString('base64') });
    expect(up).toMatchObject({ status: 200, body: { name: 'theme', revision: 1, size: 2, origin: 'upload', username: 'admin' } });
    expect((await call('POST', '/api/models/m/applications/nope/resources', { name: 'theme', filename: 'theme.zip', data: '' })).status).toBe(404);
  });
});

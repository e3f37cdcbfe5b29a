// Storage and resources against a real store and server (issue 20): Juju's rules for
// directives, counts and sizes, the life of an instance through detach, attach and removal,
// what a unit's agent sees and may fetch, and that refused requests change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageInstanceDoc, UnitView } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from '../apiserver/test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const META = `name: store
summary: s
description: d
storage:
  data: {type: filesystem, location: /srv/data, minimum-size: 100M}
  cache: {type: filesystem, multiple: {range: 0-2}}
  raw: {type: block, multiple: {range: 0-1}}
resources:
  theme: {type: file, filename: theme.zip}
`;

let server: TestServer;
let svc: Services;
let url: string;
let charmUrl = '';
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    charmUrl = s.charms.add('m', files(META)).url;
    s.applications.deploy({ model: 'm', app: 'st', charmUrl, numUnits: 2, config: {}, constraints: '', to: [], storage: { data: { size: 200 } } });
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  ({ svc, url } = server);
});

afterAll(() => server.close());

const call = (token: string, path: string, body: unknown) =>
  fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
const list = (): StorageInstanceDoc[] => svc.storage.list('m');
const byId = (id: string) => list().find((s) => s.id === id);
const unitView = (unit: string): UnitView => svc.agent.view('m', svc.reads.unit('m', unit)!.machine!).units.find((u) => u.name === unit)!;
const refusal = (fn: () => unknown): SigilError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SigilError) return e;
    throw e;
  }
  throw new Error('not refused');
};

describe('deploy --storage', () => {
  it('gives every unit its stores with the directive, defaults filled in (pool by kind, count by range)', () => {
    expect(list().map((s) => [s.id, s.unit, s.pool, s.size, s.status])).toEqual([
      ['data/0', 'st/0', 'rootfs', 200, 'pending'],
      ['data/1', 'st/1', 'rootfs', 200, 'pending'],
    ]);
    expect(unitView('st/0').storage).toEqual([{ id: 'data/0', name: 'data', kind: 'filesystem', pool: 'rootfs', size: 200, location: '/srv/data', multiple: false, life: 'alive', destroy: false, status: 'pending' }]);
    svc.units.add('m', 'st', 1);
    expect(byId('data/2')).toMatchObject({ unit: 'st/2', size: 200 });
  });

  it.each([
    [{ data: { pool: 'ebs' } }, 'pool "ebs" not found', 'storage pools here: loop, rootfs'],
    [{ data: { size: 50 } }, 'charm "store" store "data": minimum storage size is 100 MB, 50 MB specified', 'give at least 100M'],
    [{ raw: { pool: 'rootfs' } }, 'pool "rootfs" cannot provide block storage for store "raw"', 'use "loop"'],
    [{ cache: { count: 3 } }, 'charm "store" store "cache": at most 2 instances supported, 3 specified', 'at most 2'],
    [{ logs: {} }, 'charm "store" has no store called "logs"', 'its stores: cache, data, raw'],
  ])('refuses %j with a hint and creates nothing', (storage, message, hint) => {
    const before = JSON.stringify([list(), svc.reads.apps('m').map((a) => a.name)]);
    const e = refusal(() => svc.applications.deploy({ model: 'm', app: 'bad', charmUrl, numUnits: 1, config: {}, constraints: '', to: [], storage }));
    expect(e.message).toBe(message);
    expect(e.hint).toContain(hint);
    expect(JSON.stringify([list(), svc.reads.apps('m').map((a) => a.name)])).toBe(before);
  });
});

describe('an instance through its life', () => {
  it('the agent reports it attached, with where; add-storage adds up to the maximum', async () => {
    const res = await call(tokens['st/0']!, '/api/agent/storage', { unit: 'st/0', id: 'data/0', status: 'attached', location: '/srv/data' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(byId('data/0')).toMatchObject({ status: 'attached', location: '/srv/data', unit: 'st/0' });
    expect(svc.storage.add('m', 'st/0', { cache: { count: 2 } })).toEqual(['cache/0', 'cache/1']);
    expect(refusal(() => svc.storage.add('m', 'st/0', { cache: {} })).message).toBe('adding 1 instance(s) of "cache" to unit st/0 would exceed the maximum of 2 (it has 2)');
    expect(byId('cache/2')).toBeUndefined();
    // Another machine's agent may not report on this unit's storage.
    const other = await call(tokens['st/1']!, '/api/agent/storage', { unit: 'st/0', id: 'cache/0', status: 'attached', location: '/x' });
    expect(other.status).toBe(403);
  });

  it('detach keeps the data (detached, no unit); attach gives it to another unit; below the minimum is refused', () => {
    expect(refusal(() => svc.storage.detach('m', ['data/0'])).message).toBe('cannot detach data/0: unit st/0 would have 0 "data" storage, below the charm\'s minimum of 1');
    svc.storage.detach('m', ['cache/0']);
    expect(unitView('st/0').storage?.find((s) => s.id === 'cache/0')).toMatchObject({ life: 'dying', destroy: false });
    svc.storage.report('m', 'st/0', 'cache/0', 'detached', '', '');
    expect(byId('cache/0')).toMatchObject({ unit: '', status: 'detached', life: 'alive' });
    expect(unitView('st/0').storage?.map((s) => s.id)).toEqual(['cache/1', 'data/0']);
    expect(refusal(() => svc.storage.attach('m', 'st/1', ['data/0'])).message).toBe('storage data/0 is attached to st/0');
    svc.storage.attach('m', 'st/1', ['cache/0']);
    expect(byId('cache/0')).toMatchObject({ unit: 'st/1', status: 'attaching' });
  });

  it('remove-unit --destroy-storage destroys after detaching; without it the storage stays', () => {
    svc.units.remove('m', ['st/1'], true);
    expect(unitView('st/1').storage?.every((s) => s.destroy)).toBe(true);
    svc.storage.report('m', 'st/1', 'cache/0', 'detached', '', '');
    expect(byId('cache/0')).toBeUndefined();
    svc.units.remove('m', ['st/2']);
    expect(svc.storage.unitGone('m', 'st/2')).toEqual([]);
    expect(byId('data/2')).toMatchObject({ unit: '', status: 'detached' });
    expect(svc.storage.remove('m', ['data/2'], false)).toEqual(['data/2']);
    expect(byId('data/2')).toBeUndefined();
    // Ids are never reused.
    svc.units.add('m', 'st', 1);
    expect(list().map((s) => s.id)).toContain('data/3');
  });
});

describe('resources', () => {
  it('an upload is a new revision only when the content changes; units see the fingerprint', () => {
    expect(svc.resources.list('m', 'st')).toEqual([expect.objectContaining({ name: 'theme', revision: 0, origin: '', path: 'theme.zip' })]);
    const first = svc.resources.upload('m', 'st', 'theme', Buffer.from('v1'), 'alice');
    expect(first).toMatchObject({ revision: 1, size: 2, origin: 'upload', username: 'alice' });
    expect(svc.resources.upload('m', 'st', 'theme', Buffer.from('v1'), 'bob').revision).toBe(1);
    expect(svc.resources.upload('m', 'st', 'theme', Buffer.from('v2'), 'bob').revision).toBe(2);
    expect(unitView('st/0').resources).toEqual([{ name: 'theme', filename: 'theme.zip', fingerprint: expect.stringMatching(/^[0-9a-f]{96}$/), size: 2 }]);
  });

  it('refuses an unknown name and content over the limit, changing nothing', () => {
    expect(refusal(() => svc.resources.upload('m', 'st', 'logo', Buffer.from('x'), 'a'))).toMatchObject({ message: 'application "st" has no resource "logo"', hint: 'its charm declares: theme' });
    expect(refusal(() => svc.resources.upload('m', 'st', 'theme', Buffer.alloc(64 * 1024 ** 2 + 1), 'a'))).toMatchObject({ code: 'too-large' });
    expect(svc.resources.list('m', 'st')[0]).toMatchObject({ revision: 2, size: 2 });
  });

  it('a unit fetches only its own application\'s content', async () => {
    const res = await call(tokens['st/0']!, '/api/agent/resources', { unit: 'st/0', name: 'theme' });
    expect(res.status).toBe(200);
    expect(Buffer.from(((await res.json()) as { data: string }).data, 'base64').toString()).toBe('v2');
    const missing = await call(tokens['st/0']!, '/api/agent/resources', { unit: 'st/0', name: 'logo' });
    expect(missing.status).toBe(404);
  });
});

// Day-2 operations and roll-outs through the API against a real server and store: each
// answer is held to its contract schema (SIGIL_CHECK_RESPONSES), secrets never come back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-server.ts';

const file = (path: string, text: string) => ({ path, mode: 0o644, data: Buffer.from(text).toString('base64') });
const files = (meta: string) => ({ files: [file('metadata.yaml', meta), file('actions.yaml', 'backup:\n  description: b\n')] });

let server: TestServer;
let next = '';
const dir = mkdtempSync(join(tmpdir(), 'sigil-ops-routes-'));

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const charm = s.charms.add('m', files('name: app\nsummary: s\ndescription: d\n'));
    s.applications.deploy({ model: 'm', app: 'app', charmUrl: charm.url, numUnits: 2, config: {}, constraints: '', to: [] });
    next = s.charms.add('m', files('name: app\nsummary: s2\ndescription: d\n')).url;
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(server.url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: 'Bearer admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
};

describe('day-2 operations', () => {
  it('sets the backup store and lists its snapshots', async () => {
    expect((await call('GET', '/api/backup-store')).body).toEqual({ store: null });
    expect((await call('GET', '/api/models/m/snapshots')).body).toEqual({ store: null, snapshots: [] });
    const set = await call('POST', '/api/backup-store', { kind: 'local', location: join(dir, 'store') });
    expect(set).toEqual({ status: 200, body: { store: { kind: 'local', location: join(dir, 'store') } } });
    expect((await call('GET', '/api/models/m/snapshots')).body).toEqual({ store: { kind: 'local', location: join(dir, 'store') }, snapshots: [] });
  });

  it('adds, lists and removes a schedule', async () => {
    const added = await call('POST', '/api/models/m/schedules', { name: 'nightly', unit: 'app/leader', action: 'backup', every: '6h', keep: 3 });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ name: 'nightly', unit: 'app/leader', action: 'backup', params: {}, every: '6h', keep: 3, running: false, 'last-run': null, 'last-status': '' });
    expect((await call('GET', '/api/models/m/schedules')).body).toEqual({ schedules: [added.body] });
    expect((await call('DELETE', '/api/models/m/schedules/nightly')).body).toEqual({ removed: 'nightly' });
    expect((await call('GET', '/api/models/m/schedules')).body).toEqual({ schedules: [] });
  });

  it('lists no notification targets, and refuses to remove one that is not there', async () => {
    expect((await call('GET', '/api/notify')).body).toEqual({ targets: [] });
    expect((await call('DELETE', '/api/notify/nobody')).status).toBe(404);
  });
});

describe('roll-outs', () => {
  it('starts, shows and rolls back a roll-out', async () => {
    expect((await call('GET', '/api/models/m/applications/app/rollout')).status).toBe(404);
    const started = await call('POST', '/api/models/m/applications/app/rollout', { charmUrl: next, batch: '1', gate: {}, pauseMs: 0, haltOnError: false, batchTimeoutMs: 60_000 });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ app: 'app', status: 'running', direction: 'forward', to: next, gate: {} });
    expect((await call('GET', '/api/models/m/applications/app/rollout')).body).toEqual(started.body);
    const back = await call('POST', '/api/models/m/applications/app/rollout/rollback');
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ app: 'app', direction: 'back' });
  });
});

// Juju secrets against a real store and server: who may read and change what, revision
// pinning, and that what agents send is scrubbed of secret values before it is stored.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretContentResponse, SecretOp, UnitView } from '@sigil/api';
import { newSecretId } from '@sigil/core';
import type { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';
import { elect } from '../workers/leadership.ts';
import type { WorkerContext } from '../workers/context.ts';
import { startTestServer, type TestServer } from '../apiserver/test-server.ts';
import { storeFiles } from '../store/test-store.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const SRC = files('name: src\nsummary: s\ndescription: d\nprovides:\n  out: {interface: token}\n');
const SNK = files('name: snk\nsummary: s\ndescription: d\nrequires:\n  in: {interface: token}\n');
const PASSWORD = 'correct-horse-battery-staple-7f3a';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let server: TestServer;
let svc: Services;
let url: string;
const tokens: Record<string, string> = {};
let relationId = 0;

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const src = s.charms.add('m', SRC);
    const snk = s.charms.add('m', SNK);
    s.applications.deploy({ model: 'm', app: 'src', charmUrl: src.url, numUnits: 2, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'snk', charmUrl: snk.url, numUnits: 2, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'other', charmUrl: snk.url, numUnits: 1, config: {}, constraints: '', to: [] });
    relationId = s.relations.integrate('m', 'src', 'snk').id;
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
    const ctx = { store: s.store, log: silentLogger, connected: () => false, awayMs: () => 0, seen: () => false } as unknown as WorkerContext;
    for (const app of ['src', 'snk', 'other']) elect(ctx, `m/${app}`);
  });
  ({ svc, url } = server);
});

afterAll(() => server.close());

const call = (token: string, method: string, path: string, body?: unknown) =>
  fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
const commit = (unit: string, secrets: SecretOp[]) =>
  call(tokens[unit]!, 'POST', '/api/agent/commit', { unit, hook: 'test', relationUnit: {}, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [], secrets });
const content = async (unit: string, ids?: string[]) => {
  const res = await call(tokens[unit]!, 'POST', '/api/agent/secrets/content', { unit, ...(ids ? { ids } : {}) });
  return { status: res.status, body: (await res.json()) as SecretContentResponse & { error?: { message: string } } };
};
const unitView = (unit: string): UnitView => svc.agent.view('m', svc.reads.unit('m', unit)!.machine!).units.find((u) => u.name === unit)!;

describe('charm secrets', () => {
  const id = newSecretId();

  it('the leader adds an application secret and grants it over the relation; the other side reads it', async () => {
    const added = await commit('src/0', [{ op: 'add', id, owner: 'application', content: { password: b64(PASSWORD) }, label: 'db-pass' }, { op: 'grant', id, relation: relationId, app: 'snk' }]);
    expect(added.status, await added.clone().text()).toBe(200);
    expect(unitView('src/0').secrets?.owned).toMatchObject([{ id, label: 'db-pass', revision: 1, owner: 'application', access: [{ target: 'application-snk', scope: expect.stringMatching(/^relation-/), role: 'view' }] }]);
    expect(unitView('snk/1').secrets?.consumed).toEqual([{ id, label: '', tracked: 0, latest: 1, ownerApp: false }]);
    const r = await content('snk/1', [id]);
    expect(r.status).toBe(200);
    expect(r.body.secrets).toEqual([{ id, revisions: { 1: { password: b64(PASSWORD) } } }]);
    // A non-leader of the owning application reads it too, but does not manage it.
    expect(unitView('src/1').secrets).toEqual({ owned: [], consumed: [{ id, label: 'db-pass', tracked: 1, latest: 1, ownerApp: true }] });
  });

  it('refuses another application, an unknown id and another machine\'s unit with 403, saying only "not found or not granted"', async () => {
    const other = await content('other/0', [id]);
    expect(other.status).toBe(403);
    expect(other.body.error?.message).toBe(`secret secret:${id} not found or not granted to other/0`);
    expect((await content('other/0')).body.secrets).toEqual([]);
    expect(unitView('other/0').secrets).toBeUndefined();
    const unknown = await content('snk/0', [newSecretId()]);
    expect(unknown.status).toBe(403);
    expect(unknown.body.error?.message).toMatch(/^secret secret:[0-9a-v]{20} not found or not granted to snk\/0$/);
    const foreign = await call(tokens['snk/0']!, 'POST', '/api/agent/secrets/content', { unit: 'src/0' });
    expect(foreign.status).toBe(403);
    expect(JSON.stringify(await foreign.json())).not.toContain(PASSWORD);
  });

  it('lets only the owner change a secret: a consumer and a non-leader are refused and nothing changes', async () => {
    for (const unit of ['snk/0', 'src/1']) {
      const res = await commit(unit, [{ op: 'set', id, content: { password: b64('stolen') } }]);
      expect(res.status).toBe(403);
    }
    expect(svc.secrets.repo.get('m', id)?.latestRevision).toBe(1);
    const res = await commit('other/0', [{ op: 'remove', id }]);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(`secret secret:${id} not found or not granted to other/0`);
    expect(svc.secrets.repo.get('m', id)).toBeDefined();
  });

  it('pins the revision a consumer first read; a new revision waits until it refreshes', async () => {
    expect((await commit('snk/0', [{ op: 'track', id, revision: 1 }])).status).toBe(200);
    expect((await commit('src/0', [{ op: 'set', id, content: { password: b64('rotated-password-2') } }])).status).toBe(200);
    expect(unitView('snk/0').secrets?.consumed).toEqual([{ id, label: '', tracked: 1, latest: 2, ownerApp: false }]);
    // snk/0 pinned 1: both revisions are there for it (its secret-get, and --peek/--refresh).
    expect((await content('snk/0', [id])).body.secrets[0]?.revisions).toEqual({ 1: { password: b64(PASSWORD) }, 2: { password: b64('rotated-password-2') } });
    // Revision 1 is still tracked, so it is not obsolete for the owner yet.
    expect(unitView('src/0').secrets?.owned[0]?.obsolete).toEqual([]);
    expect((await commit('snk/0', [{ op: 'track', id, revision: 2, label: 'mine' }])).status).toBe(200);
    expect(unitView('snk/0').secrets?.consumed).toEqual([{ id, label: 'mine', tracked: 2, latest: 2, ownerApp: false }]);
    expect(unitView('src/0').secrets?.owned[0]?.obsolete).toEqual([1]);
    expect((await commit('src/0', [{ op: 'remove', id, revision: 1 }])).status).toBe(200);
    expect(svc.secrets.repo.revisions('m', id).map((r) => r.revision)).toEqual([2]);
  });

  it('a revoked grant stops access, and its consumers lose their pin', async () => {
    expect((await commit('src/0', [{ op: 'revoke', id, app: 'snk' }])).status).toBe(200);
    expect((await content('snk/0', [id])).status).toBe(403);
    expect(unitView('snk/0').secrets).toBeUndefined();
    expect(svc.secrets.repo.consumers('m', id)).toEqual([]);
  });

  it('a grant made over a relation vanishes with the relation', async () => {
    expect((await commit('src/0', [{ op: 'grant', id, relation: relationId, app: 'snk', unit: 'snk/1' }])).status).toBe(200);
    expect((await content('snk/1', [id])).status).toBe(200);
    expect((await content('snk/0', [id])).status).toBe(403);
    svc.store.db.prepare('DELETE FROM relations WHERE model = ? AND id = ?').run('m', relationId);
    expect((await content('snk/1', [id])).status).toBe(403);
  });
});

describe('user secrets', () => {
  const admin = (method: string, path: string, body?: unknown) => call('admin', method, `/api/models/m${path}`, body);

  it('are added, granted to an application, readable by its units, and revealed to an admin', async () => {
    const res = await admin('POST', '/secrets', { name: 'apitoken', content: { token: b64('tok-123456789') }, info: 'for the api' });
    expect(res.status).toBe(200);
    const { uri } = (await res.json()) as { uri: string };
    expect(uri).toMatch(/^secret:[0-9a-v]{20}$/);
    expect((await admin('POST', '/secrets', { name: 'apitoken', content: { token: b64('x') } })).status).toBe(409);
    expect((await admin('POST', '/secrets/apitoken/grant', { apps: ['nope'] })).status).toBe(404);
    expect((await admin('POST', '/secrets/apitoken/grant', { apps: ['other'] })).status).toBe(200);
    expect((await content('other/0', [uri.slice(7)])).body.secrets[0]?.revisions).toEqual({ 1: { token: b64('tok-123456789') } });
    const shown = (await (await admin('GET', '/secrets/apitoken')).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ owner: '<model>', name: 'apitoken', description: 'for the api', revision: 1 });
    expect(shown.content).toBeUndefined();
    const revealed = (await (await admin('GET', `/secrets/${uri.slice(7)}?reveal=true`)).json()) as Record<string, unknown>;
    expect(revealed.content).toEqual({ token: 'tok-123456789' });
    // A machine credential cannot use the client routes at all.
    expect((await call(tokens['other/0']!, 'GET', '/api/models/m/secrets/apitoken?reveal=true')).status).toBe(403);
    // Charm secrets are not managed from the CLI.
    expect((await admin('POST', `/secrets/${svc.secrets.repo.list('m').find((r) => r.ownerKind === 'application')!.id}`, { info: 'x' })).status).toBe(403);
  });
});

describe('encryption at rest and scrubbing', () => {
  it('stores only ciphertext: the value is nowhere in the database files, the key is a 0600 file beside them', async () => {
    const dir = dirname(svc.logPath);
    const files = storeFiles(svc.store.db, dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const raw = readFileSync(f);
      for (const needle of [PASSWORD, 'tok-123456789', b64(PASSWORD), b64('tok-123456789')]) expect(raw.includes(needle), `${needle} in ${f}`).toBe(false);
    }
    const sealed = svc.store.db.prepare('SELECT content FROM secret_revisions').all() as { content: Buffer }[];
    expect(sealed.length).toBeGreaterThan(0);
    for (const r of sealed) expect(r.content[0]).toBe(1);
    const key = join(dir, 'secrets.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replaces the values of secrets the sending unit can read in its log lines and status with ***', async () => {
    const m = svc.reads.unit('m', 'other/0')!.machine!;
    await call(tokens['other/0']!, 'POST', '/api/agent/logs', { lines: [{ entity: 'unit-other-0', level: 'DEBUG', module: 'x', message: 'token is tok-123456789!', at: Date.now() }] });
    const stored = svc.store.db.prepare("SELECT message FROM logs WHERE entity = 'unit-other-0'").all() as { message: string }[];
    expect(stored.map((r) => r.message)).toEqual(['token is ***!']);
    await call(tokens['other/0']!, 'POST', '/api/agent/status', { unit: 'other/0', agent: 'error', message: 'failed with tok-123456789', data: { output: ['tok-123456789'] } });
    expect(JSON.stringify(svc.reads.unit('m', 'other/0')!.agent)).not.toContain('tok-123456789');
    expect(m).toBeDefined();
    // Another unit's output is its own business: a value it was given some other way (a
    // password in relation data, say) is not a secret it can read, and stays.
    await call(tokens['snk/0']!, 'POST', '/api/agent/logs', { lines: [{ entity: 'unit-snk-0', level: 'DEBUG', module: 'x', message: 'got tok-123456789 from relation data', at: Date.now() }] });
    expect((svc.store.db.prepare("SELECT message FROM logs WHERE entity = 'unit-snk-0'").all() as { message: string }[]).map((r) => r.message)).toContain('got tok-123456789 from relation data');
  });
});

describe('secrets of removed owners', () => {
  it('go with their owner; grants and pins of removed units and applications go too', () => {
    const id = newSecretId();
    const now = Date.now();
    svc.store.tx(() => {
      svc.secrets.repo.insert({ model: 'm', id, ownerKind: 'unit', owner: 'gone/0', name: '', label: '', description: '', rotatePolicy: '', nextRotate: null, latestRevision: 1, created: now, updated: now });
      svc.secrets.repo.putRevision('m', id, 1, { token: b64('orphaned-value') }, null, now);
    });
    const user = svc.secrets.repo.byName('m', 'apitoken')!;
    svc.store.tx(() => {
      svc.secrets.repo.grant('m', user.id, { subjectKind: 'application', subject: 'vanished', relationId: null });
      svc.secrets.repo.putConsumer('m', user.id, { unit: 'vanished/0', revision: 1, label: '' });
    });
    expect(svc.store.tx(() => svc.secrets.repo.pruneOrphans('m'))).toBe(1);
    expect(svc.secrets.repo.get('m', id)).toBeUndefined();
    expect(svc.secrets.repo.revisions('m', id)).toEqual([]);
    expect(svc.secrets.repo.grants('m', user.id).map((g) => g.subject)).toEqual(['other']);
    expect(svc.secrets.repo.consumers('m', user.id).map((c) => c.unit)).not.toContain('vanished/0');
    // Secrets whose owners are alive stay.
    expect(svc.secrets.repo.list('m').length).toBeGreaterThan(0);
  });
});

describe('revealing values', () => {
  it('is for model admins only: read and write users see the metadata and are refused the values', async () => {
    for (const [name, role] of [['reader', 'read'], ['writer', 'write'], ['boss', 'admin']] as const) {
      svc.users.add(name, '', 'admin');
      svc.users.grant(name, 'm', role);
    }
    const as = (user: string, path: string) => call(svc.users.issueSession(user).token, 'GET', `/api/models/m${path}`);
    for (const user of ['reader', 'writer']) {
      expect((await as(user, '/secrets/apitoken')).status).toBe(200);
      const refused = await as(user, '/secrets/apitoken?reveal=true');
      expect(refused.status).toBe(403);
      const body = await refused.text();
      expect((JSON.parse(body) as { error: { message: string } }).error.message).toBe(`user "${user}" may not reveal secret values in model "m": that needs admin access`);
      expect(body).not.toContain('tok-123456789');
    }
    const revealed = (await (await as('boss', '/secrets/apitoken?reveal=true')).json()) as { content: Record<string, string> };
    expect(revealed.content).toEqual({ token: 'tok-123456789' });
  });
});

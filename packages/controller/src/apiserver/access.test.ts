// Walks the whole access table (ROUTE_ACCESS) against a real server and store: every route
// and stream with every kind of caller (no credential, an expired token, a disabled user, a
// machine's credential, a consuming controller's credential for one offer, a user with read, write or admin on the model, a user with access to
// another model only, the controller's superuser), and every client route under the spellings
// an attacker tries (percent-encoding, doubled and trailing slashes, case). A refused call gets
// exactly 401 or 403 with a JSON error, changes nothing and lands in the audit trail; an
// admitted one may fail validation (400, 404, 409) but is never refused.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ROUTE_ACCESS, type Access, type RouteKey } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';
import { RemoteOfferRepository } from '../state/remote-offers.ts';

const ADMIN = 'access-test-admin-token';
const OFFER_TOKEN = 'access-test-offer-credential-0123456789';
let server: TestServer;
let svc: Services;
let port: number;
let machineToken: string;

/** One kind of caller: how it authenticates, and what it holds on model `m`. */
interface Caller {
  id: string;
  token?: string;
  kind: 'none' | 'invalid' | 'machine' | 'offer' | 'superuser' | 'user';
  /** The user's name (routes under /api/users/:user are called on the caller's own name). */
  user?: string;
  role?: 'read' | 'write' | 'admin';
}
const callers: Caller[] = [];

beforeAll(async () => {
  server = await startTestServer(ADMIN, (s) => {
    machineToken = s.machines.issueToken('m', s.machines.add('m', { constraints: '', autoRemove: false }).id);
    s.models.add('other');
    const user = (name: string, grants: [string, 'read' | 'write' | 'admin'][], ttlMs?: number) => {
      s.users.add(name, '', 'admin');
      for (const [model, role] of grants) s.users.grant(name, model, role);
      return s.users.issueSession(name, ttlMs).token;
    };
    callers.push(
      { id: 'no credential', kind: 'none' },
      { id: 'unknown token', kind: 'invalid', token: 'not-a-token' },
      { id: 'expired token', kind: 'invalid', token: user('expired', [['m', 'admin']], -1000) },
      { id: 'machine credential', kind: 'machine', token: machineToken },
      { id: 'offer credential', kind: 'offer', token: OFFER_TOKEN },
      { id: 'superuser', kind: 'superuser', token: ADMIN, user: 'admin' },
      { id: 'read on m', kind: 'user', token: user('reader', [['m', 'read']]), user: 'reader', role: 'read' },
      { id: 'write on m', kind: 'user', token: user('writer', [['m', 'write']]), user: 'writer', role: 'write' },
      { id: 'admin on m', kind: 'user', token: user('modeladmin', [['m', 'admin']]), user: 'modeladmin', role: 'admin' },
      { id: 'access to another model only', kind: 'user', token: user('outsider', [['other', 'admin']]), user: 'outsider' },
    );
    // What a consuming controller holds for offer m.tokens (minted for the superuser).
    new RemoteOfferRepository(s.store).addToken({ hash: createHash('sha256').update(OFFER_TOKEN).digest('hex'), offerModel: 'm', offerName: 'tokens', user: 'admin', consumer: 'other-controller:m', created: Date.now() });
    const disabled = user('disabled', [['m', 'admin']]);
    s.users.setDisabled('disabled', true);
    callers.push({ id: 'disabled user', kind: 'invalid', token: disabled });
  });
  ({ svc, port } = server);
});

afterAll(() => server.close());

/** A raw request: the path goes on the wire exactly as written (fetch would normalise it). */
function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(body ?? {});
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const roles = (a: Access): readonly string[] => (typeof a === 'string' ? [a] : a);
const pathFor = (pattern: string, user = 'nobody') =>
  pattern.replace(':model', 'm').replace(':app', 'x').replace(':id', '1').replace(':hash', 'abc').replace(':user', user).replace(/:[a-z]+/g, 'x').replace('*', 'index.html');
const httpRoutes = (Object.entries(ROUTE_ACCESS) as [RouteKey, Access][])
  .filter(([key]) => !key.startsWith('WS '))
  .map(([key, access]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    return { key, method, pattern, path: pathFor(pattern), access: roles(access) };
  });
const clientRoutes = httpRoutes.filter((r) => !r.access.includes('agent') && !r.access.includes('public'));

/** What the table says a caller gets on a route: admitted, or exactly 401 / 403. */
function expected(access: readonly string[], c: Caller): 'admitted' | 401 | 403 {
  if (access.includes('public')) return 'admitted';
  if (c.kind === 'none' || c.kind === 'invalid') return 401;
  if (c.kind === 'machine') return access.includes('agent') ? 'admitted' : 403;
  if (c.kind === 'offer') return access.includes('offer') ? 'admitted' : 403;
  if (access.includes('login')) return 'admitted';
  if (access.includes('superuser')) return c.kind === 'superuser' ? 'admitted' : 403;
  const model = ['read', 'write', 'admin'].filter((r) => access.includes(r));
  if (model.length === 0) return 403;
  if (c.kind === 'superuser') return 'admitted';
  const order = ['read', 'write', 'admin'];
  return c.role !== undefined && model.some((r) => order.indexOf(c.role!) >= order.indexOf(r)) ? 'admitted' : 403;
}

/** Everything a refused call must leave as it was: the model (the change log) and users, grants, tokens. */
function snapshot(): string {
  const db = svc.store.db;
  return JSON.stringify([svc.store.revision(), db.prepare('SELECT * FROM users ORDER BY name').all(), db.prepare('SELECT * FROM user_access ORDER BY user, model_uuid').all(), db.prepare('SELECT hash, user, kind, expires FROM user_tokens ORDER BY hash').all(), db.prepare('SELECT name, life FROM models ORDER BY name').all()]);
}
const auditCount = () => (svc.store.db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;

/** Routes whose admitted call would end the walk for others (logging out, destroying): walked last. */
const LAST = new Set(['POST /api/logout', 'DELETE /api/models/:model', 'POST /api/controller/destroy']);

describe('the access table', () => {
  it('declares every route the server registers (the server refuses to start otherwise)', () => {
    expect(httpRoutes.length).toBeGreaterThan(50);
    expect(ROUTE_ACCESS['POST /api/models/:model/exec']).toBe('admin');
    expect(ROUTE_ACCESS['GET /api/health']).toBe('public');
    expect(ROUTE_ACCESS['GET /api/audit']).toBe('superuser');
    expect(callers.map((c) => c.kind)).toEqual(expect.arrayContaining(['none', 'invalid', 'machine', 'offer', 'superuser', 'user']));
  });

  it('gives every caller on every route what the table says: refused with exactly 401/403, nothing changed, audited', async () => {
    const wrong: string[] = [];
    let refusals = 0;
    const ordered = [...httpRoutes.filter((r) => !LAST.has(r.key)), ...httpRoutes.filter((r) => LAST.has(r.key))];
    for (const r of ordered) {
      for (const c of callers) {
        const want = expected(r.access, c);
        // A destroy or logout that is admitted ends the walk for that caller: it is checked last, alone.
        if (want === 'admitted' && LAST.has(r.key)) continue;
        const before = snapshot();
        const audited = auditCount();
        const res = await call(r.method, pathFor(r.pattern, c.user), c.token);
        // A refreshed session replaces the caller's token (the old one lives one more minute).
        if (r.key === 'POST /api/login/refresh' && res.status === 200) c.token = (JSON.parse(res.body) as { token: string }).token;
        let got: 'admitted' | 401 | 403 = res.status === 401 || res.status === 403 ? res.status : 'admitted';
        // An agent route the table admits a machine to is scoped further by the route to the
        // machine's own units: `abc` is no charm of this machine's, and the route says so.
        if (got === 403 && c.kind === 'machine' && want === 'admitted' && !res.body.includes('machine credentials cannot call')) got = 'admitted';
        if (got !== want) wrong.push(`${r.key} as ${c.id}: expected ${want}, got ${res.status} ${res.body.slice(0, 160)}`);
        if (got !== 'admitted') {
          refusals++;
          const err = (JSON.parse(res.body) as { error: { code: string; message: string; hint?: string } }).error;
          if (err.code !== (res.status === 401 ? 'unauthorized' : 'forbidden') || !err.message || !err.hint) wrong.push(`${r.key} as ${c.id}: error body ${res.body}`);
          if (snapshot() !== before) wrong.push(`${r.key} as ${c.id}: a refused call changed the store`);
          if (auditCount() !== audited + 1) wrong.push(`${r.key} as ${c.id}: a refused call is not in the audit trail`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(refusals).toBeGreaterThan(300);
  });

  it('refuses a machine credential on every client route, under every spelling, and changes nothing', async () => {
    const before = snapshot();
    const leaks: string[] = [];
    for (const r of clientRoutes) {
      for (const path of spellings(r.path)) {
        const res = await call(r.method, path, machineToken);
        if (res.status !== 401 && res.status !== 403) leaks.push(`${r.method} ${path} -> ${res.status}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(snapshot()).toBe(before);
  });

  it('refuses a read user every write route under every spelling', async () => {
    const reader = callers.find((c) => c.user === 'reader')!.token;
    const before = snapshot();
    const leaks: string[] = [];
    for (const r of clientRoutes.filter((x) => expected(x.access, callers.find((c) => c.user === 'reader')!) === 403)) {
      for (const path of spellings(r.path)) {
        const res = await call(r.method, path, reader);
        if (res.status !== 401 && res.status !== 403 && res.status !== 404) leaks.push(`${r.method} ${path} -> ${res.status}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(snapshot()).toBe(before);
  });

  it('refuses a machine credential on paths that match no route', async () => {
    for (const path of ['/api/nothing', '/%61pi/controller/destroy/', '//api/models', '/API/HEALTH/x']) {
      expect((await call('POST', path, machineToken)).status).toBe(403);
    }
  });

  it('admits a machine credential to the agent routes', async () => {
    const res = await call('GET', '/api/agent/view', machineToken);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ machine: { id: '0' } });
  });

  it('shows each user only the models it can see', async () => {
    const names = async (token: string) => (JSON.parse((await call('GET', '/api/models', token)).body) as { name: string }[]).map((m) => m.name);
    const token = (u: string) => callers.find((c) => c.user === u)!.token!;
    expect(await names(token('admin'))).toEqual(['m', 'other']);
    expect(await names(token('reader'))).toEqual(['m']);
    expect(await names(token('outsider'))).toEqual(['other']);
    expect(JSON.parse((await call('GET', '/api/whoami', token('writer'))).body)).toEqual({ user: 'writer', 'display-name': '', superuser: false, controller: 'test', models: { m: 'write' } });
    expect(JSON.parse((await call('GET', '/api/controller', token('outsider'))).body)).toMatchObject({ models: ['other'] });
  });

  it('lets a user change only its own password (a superuser any)', async () => {
    const reader = callers.find((c) => c.user === 'reader')!.token;
    const before = snapshot();
    const res = await call('POST', '/api/users/writer/password', reader, { password: 'a-long-password' });
    expect(res.status).toBe(403);
    expect(snapshot()).toBe(before);
    expect((await call('POST', '/api/users/reader/password', reader, { password: 'a-long-password' })).status).toBe(200);
    expect((await call('POST', '/api/login', undefined, { user: 'reader', password: 'a-long-password' })).status).toBe(200);
    expect((await call('POST', '/api/login', undefined, { user: 'reader', password: 'wrong-password' })).status).toBe(401);
    // The trail has who, what and the result of each, and never a password.
    const trail = svc.audit.query({ user: 'reader' });
    expect(trail.slice(-3).map((r) => [r.method, r.route, r.summary, r.status])).toEqual([
      ['POST', '/api/users/:user/password', 'user=reader', 200],
      ['POST', '/api/login', 'login', 200],
      ['POST', '/api/login', expect.stringMatching(/^login: invalid user name or password/), 401],
    ]);
    expect(trail.at(-1)?.address).toBe('127.0.0.1');
    expect(JSON.stringify(svc.store.db.prepare('SELECT * FROM audit').all())).not.toMatch(/a-long-password|wrong-password/);
    // Guessing is slowed: five wrong passwords in a row and even the right one waits.
    for (let i = 0; i < 4; i++) expect((await call('POST', '/api/login', undefined, { user: 'reader', password: `guess-${i}-xxxx` })).status).toBe(401);
    const paused = await call('POST', '/api/login', undefined, { user: 'reader', password: 'a-long-password' });
    expect(paused.status).toBe(401);
    expect(JSON.parse(paused.body)).toMatchObject({ error: { code: 'unauthorized', message: expect.stringMatching(/^too many failed logins for user "reader": try again in \d+ s$/) } });
  });

  it('admits the callers the table admits to logout and destroy (checked last: they end the walk)', async () => {
    for (const c of callers.filter((x) => expected(roles(ROUTE_ACCESS['POST /api/logout']), x) === 'admitted')) {
      const res = await call('POST', '/api/logout', c.token);
      expect({ caller: c.id, status: res.status }).toEqual({ caller: c.id, status: 200 });
      // The token is gone: the next call with it is refused.
      expect((await call('GET', '/api/whoami', c.token)).status).toBe(401);
    }
    const admin = svc.users.issueSession('admin').token;
    const modelAdmin = svc.users.issueSession('modeladmin').token;
    expect((await call('DELETE', '/api/models/m', modelAdmin)).status).toBe(200);
    expect((await call('POST', '/api/controller/destroy', admin)).status).toBe(200);
  });
});

/** The spellings of one path that a router may map onto the same route (or onto none). */
function spellings(path: string): string[] {
  const segs = path.split('/').slice(1);
  const encodeFirst = (s: string) => `%${s.charCodeAt(0).toString(16)}${s.slice(1)}`;
  return [
    path,
    '/' + encodeFirst(segs[0]!) + '/' + segs.slice(1).join('/'),
    '/' + segs[0]!.slice(0, 2) + '%' + segs[0]!.charCodeAt(2).toString(16).toUpperCase() + '/' + segs.slice(1).join('/'),
    '/' + segs.map((s) => encodeFirst(s)).join('/'),
    '/' + segs[0] + '%2F' + segs.slice(1).join('/'),
    '/' + segs[0] + '%2f' + segs.slice(1).join('%2f'),
    '/' + path,
    path.replace(/\//g, '//'),
    path + '/',
    path + '?x=1',
    path.toUpperCase(),
    '/' + segs[0]!.toUpperCase() + '/' + segs.slice(1).join('/'),
    '/./' + segs.join('/'),
    '/x/../' + segs.join('/'),
    path + '%00',
  ];
}

describe('streams', () => {
  const open = (path: string, token?: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('close', (code) => resolve(`closed ${code}`));
      ws.on('error', () => resolve('error'));
    });

  it('give every caller on every stream what the table says, about the model in ?model=', async () => {
    // On m2 only `reader` holds a role (read); the superuser holds admin everywhere.
    const onM2 = (c: Caller): Caller => {
      const { role: _role, ...rest } = c;
      return c.user === 'reader' ? { ...rest, role: 'read' } : rest;
    };
    // Fresh sessions: the HTTP walk above logged its callers out.
    const fresh = (c: Caller) => (c.kind === 'user' || c.kind === 'superuser' ? { ...c, token: svc.users.issueSession(c.user!).token } : c);
    svc.models.add('m2');
    svc.users.grant('reader', 'm2', 'read');
    const wrong: string[] = [];
    for (const [key, access] of (Object.entries(ROUTE_ACCESS) as [RouteKey, Access][]).filter(([k]) => k.startsWith('WS '))) {
      for (const c of callers.map(fresh)) {
        const want = expected(roles(access), onM2(c));
        const before = snapshot();
        const audited = auditCount();
        const got = await open(`${key.slice(3)}?model=m2`, c.token);
        const norm = got === '401' ? 401 : got === '403' ? 403 : got === 'open' ? 'admitted' : got;
        if (norm !== want) wrong.push(`${key} as ${c.id}: expected ${want}, got ${got}`);
        if (norm !== 'admitted' && (snapshot() !== before || auditCount() !== audited + 1)) wrong.push(`${key} as ${c.id}: refused but changed the store or not audited`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('serve a machine its change feed but not the debug-log or the GUI stream, under any spelling', async () => {
    expect(await open('/api/watch', machineToken)).toBe('open');
    for (const path of ['/api/logs?model=m', '/%61pi/logs?model=m', '/api/gui/watch?model=m', '/api%2Fgui/watch?model=m', '//api/logs']) {
      expect({ path, r: await open(path, machineToken) }).toEqual({ path, r: '403' });
    }
  });

  it('refuse a stream without valid credentials', async () => {
    expect(await open('/api/watch', 'not-a-token')).toBe('401');
  });
});

describe('a route that reads a second model', () => {
  it('restores a snapshot of another model only for a user with access to that model too', async () => {
    // restorer may write to `rebuilt` and read `source`; outsider2 holds `rebuilt` only.
    svc.models.add('source');
    svc.models.add('rebuilt');
    svc.users.add('restorer', '', 'admin');
    svc.users.grant('restorer', 'rebuilt', 'write');
    svc.users.grant('restorer', 'source', 'read');
    svc.users.add('outsider2', '', 'admin');
    svc.users.grant('outsider2', 'rebuilt', 'admin');
    const body = { unit: 'db/0', snapshot: 'abc', fromModel: 'source' };
    const [outsider, restorer] = [svc.users.issueSession('outsider2').token, svc.users.issueSession('restorer').token];
    const before = snapshot();
    const refused = await call('POST', '/api/models/rebuilt/restore-unit', outsider, body);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.message).toBe('user "outsider2" has no access to model "source", whose snapshot this restores');
    expect(snapshot()).toBe(before);
    // Past the check: this test server runs no backup runner, which is the next thing to answer.
    const admitted = await call('POST', '/api/models/rebuilt/restore-unit', restorer, body);
    expect(admitted.status).toBe(503);
    expect(JSON.parse(admitted.body).error.message).toBe('this controller does not run schedules');
  });
});

// Walks the whole access table (ROUTE_ACCESS) against a real server and store: every route
// with no credential, a machine's credential and the admin's, and every client route under
// the spellings an attacker tries (percent-encoding, doubled and trailing slashes, case).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ROUTE_ACCESS, type Access, type RouteKey } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const ADMIN = 'access-test-admin-token';
let server: TestServer;
let svc: Services;
let port: number;
let machineToken: string;

beforeAll(async () => {
  server = await startTestServer(ADMIN, (s) => {
    machineToken = s.machines.issueToken('m', s.machines.add('m', { constraints: '', autoRemove: false }).id);
  });
  ({ svc, port } = server);
});

afterAll(() => server.close());

/** A raw request: the path goes on the wire exactly as written (fetch would normalise it). */
function call(method: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const roles = (a: Access): readonly string[] => (typeof a === 'string' ? [a] : a);
const httpRoutes = (Object.entries(ROUTE_ACCESS) as [RouteKey, Access][])
  .filter(([key]) => !key.startsWith('WS '))
  .map(([key, access]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    const path = pattern.replace(':model', 'm').replace(':app', 'x').replace(':id', '1').replace(':hash', 'abc').replace('*', 'index.html');
    return { key, method, path, access: roles(access) };
  });
const clientRoutes = httpRoutes.filter((r) => !r.access.includes('agent') && !r.access.includes('public'));

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

describe('the access table', () => {
  it('declares every route the server registers (the server refuses to start otherwise)', () => {
    expect(httpRoutes.length).toBeGreaterThan(40);
    expect(ROUTE_ACCESS['POST /api/models/:model/exec']).toBe('admin');
    expect(ROUTE_ACCESS['GET /api/health']).toBe('public');
  });

  it('answers a request without credentials with 401 on every non-public route', async () => {
    for (const r of httpRoutes.filter((x) => !x.access.includes('public'))) {
      const res = await call(r.method, r.path);
      expect({ route: r.key, status: res.status }).toEqual({ route: r.key, status: 401 });
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('refuses a machine credential on every client route, under every spelling, and changes nothing', async () => {
    const before = svc.store.revision();
    const leaks: string[] = [];
    for (const r of clientRoutes) {
      for (const path of spellings(r.path)) {
        const res = await call(r.method, path, machineToken);
        if (res.status !== 401 && res.status !== 403) leaks.push(`${r.method} ${path} -> ${res.status}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(svc.store.revision()).toBe(before);
    expect(svc.models.list().map((m) => m.name)).toEqual(['m']);
  });

  it('refuses a machine credential on paths that match no route', async () => {
    for (const path of ['/api/nothing', '/%61pi/controller/destroy/', '//api/models', '/API/HEALTH/x']) {
      expect((await call('POST', path, machineToken)).status).toBe(403);
    }
  });

  it('admits the admin to every user route and refuses it the agent routes', async () => {
    for (const r of httpRoutes.filter((x) => x.key !== 'POST /api/controller/destroy' && x.key !== 'POST /api/logout')) {
      const res = await call(r.method, r.path, ADMIN);
      if (r.access.includes('agent')) expect({ route: r.key, status: res.status }).toEqual({ route: r.key, status: 403 });
      else expect({ route: r.key, status: res.status }).not.toMatchObject({ status: expect.toSatisfy((s: number) => s === 401 || s === 403) });
    }
  });

  it('admits a machine credential to the agent routes', async () => {
    const res = await call('GET', '/api/agent/view', machineToken);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ machine: { id: '0' } });
  });
});

describe('streams', () => {
  const open = (path: string, token: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
      ws.on('message', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('close', (code) => resolve(`closed ${code}`));
      ws.on('error', () => resolve('error'));
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

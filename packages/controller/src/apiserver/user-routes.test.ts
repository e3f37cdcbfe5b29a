// Users, sessions, model access, the audit trail and the controller's configuration against
// a real store and a real server, with every answer held to its route's response schema
// (SIGIL_CHECK_RESPONSES): a user's life from add-user to remove-user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOf, type ApiAnswer, type ApiArgs, type ApiRoute } from '@sigil/api';
import { startTestServer, type TestServer } from './test-server.ts';

const ADMIN = 'user-routes-admin-token';
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer(ADMIN);
});

afterAll(async () => {
  await s?.close();
});

/** One call of a route as `token` (none: anonymous): its status, its JSON, and the message of an error. */
async function call<K extends ApiRoute>(token: string | undefined, key: K, ...args: ApiArgs<K>): Promise<{ status: number; body: ApiAnswer<K>; message?: string }> {
  const r = requestOf(key, ...args);
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (r.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${s.url}${r.path}`, { method: r.method, headers, ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}) });
  const body = (await res.json()) as ApiAnswer<K> & { error?: { message: string } };
  return { status: res.status, body, ...(body.error ? { message: body.error.message } : {}) };
}

describe('user routes', () => {
  it('adds a user who registers, logs in, is granted a model, and is disabled, reset and removed', async () => {
    expect((await call(undefined, 'GET /api/ca')).body).toEqual({ 'ca-cert': '', fingerprint: '' });

    const added = await call(ADMIN, 'POST /api/users', { body: { name: 'alice', displayName: 'Alice' } });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ user: 'alice', controller: 'test' });
    const registered = await call(undefined, 'POST /api/register', { body: { key: added.body.key, password: 'pw-alice' } });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ user: 'alice', superuser: false, controller: 'test' });
    const login = await call(undefined, 'POST /api/login', { body: { user: 'alice', password: 'pw-alice' } });
    expect(login.status).toBe(200);
    const alice = login.body.token;

    const granted = await call(ADMIN, 'POST /api/models/:model/access', { params: { model: 'm' }, body: { user: 'alice', role: 'write', action: 'grant' } });
    expect(granted.body).toEqual({ user: 'alice', model: 'm', access: 'write' });
    expect((await call(ADMIN, 'POST /api/models/:model/access', { params: { model: 'm' }, body: { user: 'alice', role: 'owner', action: 'grant' } })).message).toBe('unknown access level "owner"');
    const who = await call(alice, 'GET /api/whoami');
    expect(who.body).toEqual({ user: 'alice', 'display-name': 'Alice', superuser: false, controller: 'test', models: { m: 'write' } });

    // A user who is not a controller admin sees only itself.
    const seen = await call(alice, 'GET /api/users');
    expect(seen.body.map((u) => u.name)).toEqual(['alice']);
    expect(seen.body[0]).toMatchObject({ access: 'login', disabled: false, registered: true, 'created-by': 'admin', models: { m: 'write' } });
    expect((await call(ADMIN, 'GET /api/users')).body.map((u) => u.name).sort()).toEqual(['admin', 'alice']);

    expect((await call(alice, 'POST /api/users/:user/password', { params: { user: 'alice' }, body: { password: 'pw-alice-2' } })).body).toEqual({ ok: true });
    const refreshed = await call(alice, 'POST /api/login/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).not.toBe(alice);

    expect((await call(ADMIN, 'POST /api/users/:user/disable', { params: { user: 'alice' } })).body).toEqual({ user: 'alice', disabled: true });
    expect((await call(undefined, 'POST /api/login', { body: { user: 'alice', password: 'pw-alice-2' } })).message).toBe('user "alice" is disabled');
    expect((await call(ADMIN, 'POST /api/users/:user/enable', { params: { user: 'alice' } })).body).toEqual({ user: 'alice', disabled: false });
    const reset = await call(ADMIN, 'POST /api/users/:user/reset', { params: { user: 'alice' } });
    expect(reset.body).toMatchObject({ user: 'alice', controller: 'test' });

    const again = await call(undefined, 'POST /api/register', { body: { key: reset.body.key, password: 'pw-alice-3' } });
    expect((await call(again.body.token, 'POST /api/logout')).body).toEqual({ ok: true });
    expect((await call(again.body.token, 'GET /api/whoami')).status).toBe(401);
    expect((await call(ADMIN, 'DELETE /api/users/:user', { params: { user: 'alice' } })).body).toEqual({ ok: true });
    expect((await call(ADMIN, 'GET /api/users')).body.map((u) => u.name)).toEqual(['admin']);
  });

  it('shows and sets the controller configuration, refusing an unknown key by name', async () => {
    expect((await call(ADMIN, 'GET /api/controller/config')).body).toEqual({ 'audit-log-max-size': '100M', 'audit-log-max-age': '2160h' });
    expect((await call(ADMIN, 'POST /api/controller/config', { body: { 'audit-log-max-age': '720h' } })).body).toEqual({ 'audit-log-max-size': '100M', 'audit-log-max-age': '720h' });
    const unknown = await call(ADMIN, 'POST /api/controller/config', { body: { colour: 'blue' } });
    expect(unknown.status).toBe(400);
    expect(unknown.message).toBe('unknown controller config key "colour"');
  });

  it('answers the audit trail filtered by user and limited, and names a bad since or limit', async () => {
    await call(undefined, 'POST /api/login', { body: { user: 'nobody', password: 'wrong' } });
    const trail = await call(ADMIN, 'GET /api/audit', { query: { user: 'nobody', limit: '5' } });
    expect(trail.status).toBe(200);
    expect(trail.body.length).toBeGreaterThan(0);
    expect(trail.body.every((r) => r.user === 'nobody' && r.route === '/api/login')).toBe(true);
    const badSince = await call(ADMIN, 'GET /api/audit', { query: { since: 'yesterday' } });
    expect(badSince.status).toBe(400);
    expect(badSince.message).toBe('invalid since "yesterday"');
    expect((await call(ADMIN, 'GET /api/audit', { query: { limit: '0' } })).message).toBe('invalid limit "0"');
  });
});

// The GUI's web-app login against a real store and a real server: one-time codes, the
// session cookie and where it is (and is not) accepted, password login and logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from './test-server.ts';
import { GuiLoginCodes, LOGIN_CODE_TTL_MS, LOGIN_FAILURES, LOGIN_PAUSE_MS, LoginThrottle, SESSION_COOKIE } from './gui-session.ts';

const ADMIN = 'gui-session-admin-token';
const PASSWORD = 'correct horse battery';

let s: TestServer;
/** The server's clock for login codes, moved by the tests. */
let now = Date.parse('2026-01-01T00:00:00Z');
let origin: string;

beforeAll(async () => {
  s = await startTestServer(ADMIN, (svc) => {
    svc.guiLogins = new GuiLoginCodes(() => now);
  });
  origin = s.url;
  // A read user of model m, registered with a password.
  const key = s.svc.users.add('reader', '', 'admin');
  await s.svc.users.register(key.token, PASSWORD);
  s.svc.users.grant('reader', 'm', 'read');
});

afterAll(async () => {
  await s?.close();
});

const json = { 'content-type': 'application/json' };
const asAdmin = { authorization: `Bearer ${ADMIN}` };

async function loginCode(headers: Record<string, string> = asAdmin): Promise<Response> {
  return fetch(`${s.url}/api/gui/login-code`, { method: 'POST', headers: { ...headers, ...json }, body: '{}' });
}

function session(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${s.url}/api/gui/session`, { method: 'POST', headers: { origin, ...json, ...headers }, body: JSON.stringify(body) });
}

/** The session cookie's value and its attributes, from a Set-Cookie header. */
function parseCookie(r: Response): { value: string; attrs: string[] } {
  const set = r.headers.getSetCookie();
  expect(set).toHaveLength(1);
  const [pair, ...attrs] = set[0]!.split('; ');
  const [name, value] = pair!.split('=') as [string, string];
  expect(name).toBe(SESSION_COOKIE);
  return { value, attrs };
}

async function codeLogin(): Promise<string> {
  const { code } = (await (await loginCode()).json()) as { code: string };
  const r = await session({ code });
  expect(r.status).toBe(200);
  return parseCookie(r).value;
}

const withCookie = (value: string, headers: Record<string, string> = {}) => ({ cookie: `other=1; ${SESSION_COOKIE}=${value}`, ...headers });

describe('GUI login with a one-time code', () => {
  it('issues a code to the caller only, and trades it once for a session cookie that is exactly HttpOnly, Secure, SameSite=Strict', async () => {
    expect((await loginCode({})).status).toBe(401);
    const r = await loginCode();
    expect(r.status).toBe(200);
    const issued = (await r.json()) as { code: string; user: string; expires: string };
    expect(issued.user).toBe('admin');
    expect(Date.parse(issued.expires) - now).toBe(LOGIN_CODE_TTL_MS);
    expect(issued.code).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const first = await session({ code: issued.code });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const { value, attrs } = parseCookie(first);
    // Exactly these flags, and a lifetime that is the session token's (24 h).
    expect(attrs.filter((a) => !a.startsWith('Max-Age=')).sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Strict', 'Secure']);
    const maxAge = Number(attrs.find((a) => a.startsWith('Max-Age='))!.slice('Max-Age='.length));
    const body = (await first.json()) as { user: string; expires: string };
    expect(body.user).toBe('admin');
    expect(Math.abs(maxAge - (Date.parse(body.expires) - Date.now()) / 1000)).toBeLessThan(5);
    expect(maxAge).toBeGreaterThan(23 * 3600);
    // The cookie is a session of its own: neither the admin token nor anything in the answer.
    expect(value).not.toBe(ADMIN);
    expect(JSON.stringify(body)).not.toContain(value);

    // Single use: the same code again is refused, with no cookie and a hint.
    const again = await session({ code: issued.code });
    expect(again.status).toBe(401);
    expect(again.headers.getSetCookie()).toEqual([]);
    const err = ((await again.json()) as { error: { message: string; hint: string } }).error;
    expect(err.message).toMatch(/unknown, already used or expired/);
    expect(err.hint).toMatch(/sigil gui/);
  });

  it('refuses a code after its two minutes (on the injected clock), and an unknown one', async () => {
    const late = ((await (await loginCode()).json()) as { code: string }).code;
    const justInTime = ((await (await loginCode()).json()) as { code: string }).code;
    now += LOGIN_CODE_TTL_MS - 1;
    expect((await session({ code: justInTime })).status).toBe(200);
    now += 1;
    const r = await session({ code: late });
    expect(r.status).toBe(401);
    expect(r.headers.getSetCookie()).toEqual([]);
    expect((await session({ code: 'made-up-code' })).status).toBe(401);
  });

  it('does not spend a code when the link itself is fetched (a link previewer): only the page\'s POST does', async () => {
    const { code } = (await (await loginCode()).json()) as { code: string };
    const page = await fetch(`${s.url}/gui/login?model=m&code=${code}`);
    expect(page.status).toBe(200);
    expect(page.headers.getSetCookie()).toEqual([]);
    expect((await session({ code })).status).toBe(200);
  });

  it('never puts a token in a URL: no Location and no link in any login answer carries one', async () => {
    const tokens = [ADMIN, await codeLogin()];
    const answers = [await loginCode(), await session({ code: 'x' }), await fetch(`${s.url}/gui?model=m`, { redirect: 'manual' }), await fetch(`${s.url}/gui/login?model=m`, { redirect: 'manual' })];
    for (const a of answers) {
      const text = `${a.headers.get('location') ?? ''} ${await a.text()}`;
      for (const t of tokens) expect(text).not.toContain(t);
    }
  });

  it('refuses a login or logout posted from another origin', async () => {
    const { code } = (await (await loginCode()).json()) as { code: string };
    const r = await session({ code }, { origin: 'https://elsewhere.example' });
    expect(r.status).toBe(403);
    expect(r.headers.getSetCookie()).toEqual([]);
    // The code was not spent by the refused attempt.
    expect((await session({ code })).status).toBe(200);
  });
});

describe('the session cookie', () => {
  it('authenticates the GUI\'s routes, the client API and the GUI\'s streams', async () => {
    const cookie = await codeLogin();
    for (const path of ['/api/whoami', '/api/models', '/api/models/m/status', '/api/gui/charms?q=x']) {
      expect((await fetch(`${s.url}${path}`, { headers: withCookie(cookie) })).status, path).toBe(200);
    }
    expect((await fetch(`${s.url}/api/models/m/status`, { headers: withCookie('not-a-session') })).status).toBe(401);
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/gui/watch?model=m`, ['sigil'], { headers: withCookie(cookie, { origin }) });
    const first = await new Promise<string>((resolve, reject) => {
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'snapshot' });
    ws.close();
  });

  it('is refused on a stream opened from another origin, and on a change posted from one', async () => {
    const cookie = await codeLogin();
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/gui/watch?model=m`, ['sigil'], { headers: withCookie(cookie, { origin: 'https://workload.example' }) });
    expect(await new Promise<string>((resolve) => ws.on('error', (e) => resolve(e.message)))).toMatch(/403/);
    const post = (headers: Record<string, string>) => fetch(`${s.url}/api/models/m/applications/x/expose`, { method: 'POST', headers: { ...withCookie(cookie, headers), ...json }, body: '{"exposed":true}' });
    expect((await post({ origin: 'https://workload.example' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    // From the GUI's own origin the call gets through authorisation (and fails on the missing app).
    expect((await post({ origin })).status).toBe(404);
  });

  it('names its user in the audit trail when a call or stream that came with it is refused (role, origin or route)', async () => {
    const r = await session({ user: 'reader', password: PASSWORD });
    const cookie = parseCookie(r).value;
    const since = Date.now();
    const post = (path: string, headers: Record<string, string>) => fetch(`${s.url}${path}`, { method: 'POST', headers: { ...withCookie(cookie, headers), ...json }, body: '{"exposed":true}' });
    // Its role (read on m), its origin, a route the cookie never serves.
    expect((await post('/api/models/m/applications/x/expose', { origin })).status).toBe(403);
    expect((await post('/api/models/m/applications/y/expose', { origin: 'https://workload.example' })).status).toBe(403);
    expect((await fetch(`${s.url}/api/agent/view?model=m`, { headers: withCookie(cookie) })).status).toBe(401);
    const refusedStream = async (model: string, from: string) => {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/gui/watch?model=${model}`, ['sigil'], { headers: withCookie(cookie, { origin: from }) });
      return new Promise<string>((resolve) => ws.on('error', (e) => resolve(e.message)));
    };
    expect(await refusedStream('not-granted', origin)).toMatch(/403/);
    expect(await refusedStream('m', 'https://workload.example')).toMatch(/403/);
    const trail = s.svc.audit.query({ since }).map((a) => `${a.user} ${a.status} ${a.method} ${a.route} ${a.model}`);
    expect(trail).toEqual([
      'reader 403 POST /api/models/:model/applications/:app/expose m',
      'reader 403 POST /api/models/:model/applications/:app/expose m',
      'reader 401 GET /api/agent/view m',
      'reader 403 WS /api/gui/watch not-granted',
      'reader 403 WS /api/gui/watch m',
    ]);
    // A cookie that is no session names nobody.
    expect((await fetch(`${s.url}/api/models/m/applications/x/expose`, { method: 'POST', headers: { ...withCookie('not-a-session', { origin }), ...json }, body: '{}' })).status).toBe(401);
    expect(s.svc.audit.query({ since }).at(-1)).toMatchObject({ user: '-', status: 401 });
  });

  it('never authenticates a route an agent may call', async () => {
    const cookie = await codeLogin();
    const r = await fetch(`${s.url}/api/agent/view?model=m`, { headers: withCookie(cookie) });
    expect(r.status).toBe(401);
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/watch?model=m`, ['sigil'], { headers: withCookie(cookie, { origin }) });
    expect(await new Promise<string>((resolve) => ws.on('error', (e) => resolve(e.message)))).toMatch(/401/);
  });

  it('ends with logout: the server forgets the session and the cookie is cleared', async () => {
    const cookie = await codeLogin();
    const out = await fetch(`${s.url}/api/gui/session`, { method: 'DELETE', headers: withCookie(cookie, { origin }) });
    expect(out.status).toBe(200);
    const { value, attrs } = parseCookie(out);
    expect(value).toBe('');
    expect(attrs).toContain('Max-Age=0');
    expect((await fetch(`${s.url}/api/whoami`, { headers: withCookie(cookie) })).status).toBe(401);
  });
});

describe('GUI login with a password', () => {
  it('gives a read user a session that sees the model and may change nothing', async () => {
    const r = await session({ user: 'reader', password: PASSWORD });
    expect(r.status).toBe(200);
    const cookie = parseCookie(r).value;
    const who = (await (await fetch(`${s.url}/api/whoami`, { headers: withCookie(cookie) })).json()) as { user: string; superuser: boolean; models: Record<string, string> };
    expect(who).toMatchObject({ user: 'reader', superuser: false, models: { m: 'read' } });
    expect((await fetch(`${s.url}/api/models/m/status`, { headers: withCookie(cookie) })).status).toBe(200);
    const deploy = await fetch(`${s.url}/api/gui/models/m/deploy`, { method: 'POST', headers: { ...withCookie(cookie, { origin }), ...json }, body: JSON.stringify({ charm: 'x', app: 'x', numUnits: 1, config: {}, annotations: {} }) });
    expect(deploy.status).toBe(403);
    expect(((await deploy.json()) as { error: { message: string } }).error.message).toMatch(/read access to model "m"/);
  });

  it('refuses a wrong password or an unknown user with a clear message, setting nothing', async () => {
    for (const body of [{ user: 'reader', password: 'wrong password' }, { user: 'nobody', password: PASSWORD }]) {
      const r = await session(body);
      expect(r.status).toBe(401);
      expect(r.headers.getSetCookie()).toEqual([]);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/invalid user name or password/);
    }
    const mixed = await session({ code: 'x', user: 'reader', password: PASSWORD });
    expect(mixed.status).toBe(400);
  });

  it('slows guessing: after five wrong passwords in a row the name is refused for a while, even with the right one', async () => {
    const key = s.svc.users.add('guessed', '', 'admin');
    await s.svc.users.register(key.token, PASSWORD);
    for (let i = 0; i < LOGIN_FAILURES; i++) expect((await session({ user: 'guessed', password: `guess ${i}` })).status).toBe(401);
    const paused = await session({ user: 'guessed', password: PASSWORD });
    expect(paused.status).toBe(401);
    expect(paused.headers.getSetCookie()).toEqual([]);
    expect(((await paused.json()) as { error: { message: string } }).error.message).toMatch(/too many failed logins for user "guessed"/);
    // Other names are not held up.
    expect((await session({ user: 'reader', password: PASSWORD })).status).toBe(200);
  });

  it('counts the CLI\'s login and the GUI\'s as one: alternating them still pauses the name after five failures, on both', async () => {
    const key = s.svc.users.add('alternated', '', 'admin');
    await s.svc.users.register(key.token, PASSWORD);
    const cli = (password: string) => fetch(`${s.url}/api/login`, { method: 'POST', headers: json, body: JSON.stringify({ user: 'alternated', password }) });
    const gui = (password: string) => session({ user: 'alternated', password });
    for (let i = 0; i < LOGIN_FAILURES; i++) expect((await (i % 2 === 0 ? cli : gui)(`guess ${i}`)).status).toBe(401);
    for (const r of [await cli(PASSWORD), await gui(PASSWORD)]) {
      expect(r.status).toBe(401);
      expect(r.headers.getSetCookie()).toEqual([]);
      const body = (await r.json()) as { error: { message: string }; token?: string };
      expect(body.error.message).toMatch(/too many failed logins for user "alternated"/);
      expect(body.token).toBeUndefined();
    }
    // One throttle on the controller, not one per route.
    expect(() => s.svc.auth.loginThrottle.check('alternated')).toThrow(/too many failed logins/);
  });
});

describe('LoginThrottle', () => {
  it('pauses a name after five failures in a row, for thirty seconds on its clock, and forgets it after a success', () => {
    let t = 0;
    const th = new LoginThrottle(() => t);
    for (let i = 0; i < LOGIN_FAILURES - 1; i++) th.record('u', false);
    expect(() => th.check('u')).not.toThrow();
    th.record('u', false);
    expect(() => th.check('u')).toThrow(/too many failed logins for user "u": try again in 30 s/);
    expect(() => th.check('v')).not.toThrow();
    t += LOGIN_PAUSE_MS;
    expect(() => th.check('u')).not.toThrow();
    th.record('u', true);
    th.record('u', false);
    expect(() => th.check('u')).not.toThrow();
  });
});

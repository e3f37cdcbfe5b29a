import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

/** How long the bundle may take to settle: five machines installing while other suites install theirs. */
const SETTLE = '10m';
const SETTLE_MS = 600_000;

// The conference bundle on real machines: HAProxy → Django ×2 (gunicorn) → PostgreSQL,
// with memcached, HAProxy exposed. What a person would check from the host: the schedule
// answers through HAProxy's published port, from both Django units, with the shared cache;
// `config django debug=true` shows Django's debug pages without a redeploy.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('conference stack: haproxy → django ×2 → postgresql + memcached (real containers)', () => {
  let M: string;
  let base: string;

  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: await r.text() };
  };
  /** Polls until `n` responses in a row (enough for both backends) satisfy `pred`. */
  const eventually = async (what: string, path: string, pred: (r: { status: number; body: string }) => boolean, n = 4, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let streak = 0;
    let last: { status: number; body: string } | undefined;
    while (Date.now() < deadline) {
      last = await get(path).catch(() => undefined);
      streak = last && pred(last) ? streak + 1 : 0;
      if (streak >= n) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}; last answer: ${last?.status} ${last?.body.slice(0, 300)}`);
  };
  /** gunicorn's master process on a unit: a graceful reload keeps it, a restart replaces it. */
  const masterPid = async (u: string) => (await ok(['exec', '-m', M, '--unit', u, '--', 'systemctl show -p MainPID --value django'])).trim();

  beforeAll(async () => {
    M = await lxcModel('conference');
    const t = Date.now();
    // Five machines install their packages at once, alongside the other suites' machines on
    // a 2-core CI runner: follow the model with a deadline of its own, which the harness
    // outwaits, so a slow run fails saying what was still busy.
    await ok(['deploy', join(ROOT, 'bundles', 'conference.yaml'), '-m', M, '--no-wait']);
    const w = await sigil(['wait', '-m', M, '--timeout', SETTLE]);
    expect(w.code, w.stderr + w.stdout).toBe(0);
    const s = await until(M, 'haproxy port 80 published', (x) => (unit(x, 'haproxy/0')?.['published-ports'] ?? []).some((p) => p.endsWith('->80/tcp')), 30_000);
    const published = unit(s, 'haproxy/0')!['published-ports']!.find((p) => p.endsWith('->80/tcp'))!;
    base = `http://127.0.0.1:${/^\*:(\d+)->80\/tcp$/.exec(published)![1]}`;
    await eventually('the schedule through haproxy', '/', (r) => r.status === 200, 1);
    process.stderr.write(`conference bundle: deploy to first schedule page through haproxy in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }, SETTLE_MS + 240_000); // the wait, plus add-model, deploy, the published port and the first page

  afterAll(async () => {
    if (M) await sigil(['destroy-model', M, '--yes', '--timeout', '2m']);
  }, 180_000);

  it('serves the seeded schedule through haproxy from both django units, with memcached shared', async () => {
    const s = await status(M);
    for (const u of ['django/0', 'django/1']) expect(workload(s, u)).toMatch(/^active serving dir-[0-9a-f]{12} on port 8000 with memcached \S+:11211$/);
    const machines = ['django/0', 'django/1'].map((u) => s.machines[unit(s, u)!.machine!]!['instance-id']).sort();
    // A unit that started last is marked up by HAProxy's checks (rise 2 × inter 2 s) a few
    // seconds after `sigil wait`: ask until both answered.
    const hosts = new Set<string>();
    const deadline = Date.now() + 30_000;
    for (let i = 0; hosts.size < 2 && Date.now() < deadline; i++) {
      const r = await get('/');
      expect(r.status).toBe(200);
      expect(r.body).toContain('9 talks over 2 days');
      expect(r.body).toContain('Opening keynote: operations as code');
      // Both units use one memcached: the schedule one unit cached is a hit on the other.
      if (i > 0) expect(r.body).toMatch(/cache: PyMemcacheCache \(hit\)/);
      hosts.add(/Served by (\S+)/.exec(r.body)![1]!);
      await new Promise((res) => setTimeout(res, 250));
    }
    expect([...hosts].sort()).toEqual(machines);
  }, 60_000);

  it('serves static files (the admin\'s included) and the admin login page', async () => {
    expect((await get('/static/schedule/style.css')).status).toBe(200);
    expect((await get('/static/admin/css/base.css')).status).toBe(200);
    const login = await get('/admin/login/');
    expect(login.status).toBe(200);
    expect(login.body).toContain('Django administration');
  }, 30_000);

  it("the demo's own Django tests pass on the unit's Django (Debian's)", async () => {
    const release = /serving (\S+)/.exec(workload(await status(M), 'django/0'))![1];
    const out = await sigil(['exec', '-m', M, '--unit', 'django/0', '--', `cd /srv/django/releases/${release} && python3 manage.py test schedule --noinput 2>&1`]);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Ran 3 tests[\s\S]*\nOK/);
  }, 150_000); // the harness gives exec 120 s

  it('debug=true shows Django\'s debug 404 page without a redeploy or restart; false hides it again', async () => {
    const missing = await get('/no-such-page/');
    expect(missing.status).toBe(404);
    expect(missing.body).not.toContain('URLconf');
    const pids = await Promise.all(['django/0', 'django/1'].map(masterPid));
    const release = /serving (\S+)/.exec(workload(await status(M), 'django/0'))![1];

    await ok(['config', 'django', 'debug=true', '-m', M]);
    await eventually('the debug 404 page', '/no-such-page/', (r) => r.status === 404 && r.body.includes('Using the URLconf defined in <code>conference.urls</code>'));
    await ok(['wait', '-m', M, '--timeout', '2m']);
    const s = await status(M);
    for (const u of ['django/0', 'django/1']) expect(workload(s, u)).toMatch(new RegExp(`^active serving ${release} on port 8000 with memcached \\S+; DEBUG on$`));
    expect(await Promise.all(['django/0', 'django/1'].map(masterPid))).toEqual(pids);

    await ok(['config', 'django', 'debug=false', '-m', M]);
    await eventually('the plain 404 page', '/no-such-page/', (r) => r.status === 404 && !r.body.includes('URLconf'));
    expect((await get('/')).status).toBe(200);
  }, 300_000); // two 60 s page polls and a wait of 2 m
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '@sigil/core';
import { LXC_CONTROLLER, ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

/** How long the bundle may take to settle: five machines installing while other suites install theirs. */
const SETTLE = '10m';
const SETTLE_MS = 600_000;
const BUNDLE = join(ROOT, 'bundles', 'conference.yaml');
/** psql as postgres on the unit's cluster; the site's data is in the database django. */
const PSQL = (sql: string, db = 'django') => `port=$(pg_lsclusters -h | awk 'NR==1 {print $3}'); psql -X -At -U postgres -p "$port" -d ${db} -c "${sql}"`;
/** Puts a talk on the schedule straight in the database: a copy of the first talk under another title. */
const addTalk = (title: string) => PSQL(`INSERT INTO schedule_talk (title, abstract, speaker_id, room_id, start, \\"end\\") SELECT '${title}', abstract, speaker_id, room_id, start, \\"end\\" FROM schedule_talk ORDER BY id LIMIT 1`);

// The conference bundle on real machines: HAProxy → Django ×2 (gunicorn) → PostgreSQL,
// with memcached, HAProxy exposed. What a person would check from the host: the schedule
// answers through HAProxy's published port, from both Django units, with the shared cache;
// `config django debug=true` shows Django's debug pages without a redeploy. Last, the
// failover drill (issue 18) rebuilds this stack on a fresh model from its newest backup.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('conference stack: haproxy → django ×2 → postgresql + memcached (real containers)', () => {
  let M: string;
  let base: string;
  const work = mkdtempSync(join(tmpdir(), 'sigil-conference-e2e-'));
  const D = `${LXC_CONTROLLER}:drill-conference-${process.pid}`;

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
    await ok(['deploy', BUNDLE, '-m', M, '--no-wait']);
    const w = await sigil(['wait', '-m', M, '--timeout', SETTLE]);
    expect(w.code, w.stderr + w.stdout).toBe(0);
    const s = await until(M, 'haproxy port 80 published', (x) => (unit(x, 'haproxy/0')?.['published-ports'] ?? []).some((p) => p.endsWith('->80/tcp')), 30_000);
    const published = unit(s, 'haproxy/0')!['published-ports']!.find((p) => p.endsWith('->80/tcp'))!;
    base = `http://127.0.0.1:${/^\*:(\d+)->80\/tcp$/.exec(published)![1]}`;
    await eventually('the schedule through haproxy', '/', (r) => r.status === 200, 1);
    process.stderr.write(`conference bundle: deploy to first schedule page through haproxy in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }, SETTLE_MS + 240_000); // the wait, plus add-model, deploy, the published port and the first page

  afterAll(async () => {
    // The drill's model exists only once the drill ran; destroying one that does not is refused, harmlessly.
    await Promise.all([M ? sigil(['destroy-model', M, '--yes', '--timeout', '2m']) : undefined, sigil(['destroy-model', D, '--yes', '--timeout', '2m'])]);
    rmSync(work, { recursive: true, force: true });
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

  it('drill failover refuses bad input with a hint', async () => {
    const none = await sigil(['drill', 'failover', '--to-model', D.split(':')[1]!, '-m', M]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/give the stack as --bundle FILE or as --spec SPEC --stage STAGE[\s\S]*hint:/);
    const existing = await sigil(['drill', 'failover', '--bundle', BUNDLE, '--to-model', M.split(':')[1]!, '-m', M]);
    expect(existing.code).not.toBe(0);
    expect(existing.stderr).toMatch(/already exists[\s\S]*hint: a drill rebuilds into a fresh model/);
  });

  // Last: it adds talks to this stack's database behind the cached schedule's back.
  it('the failover drill rebuilds the stack on a fresh model with the newest snapshot, verifies it and prints the recovery time by phase', async () => {
    const inSnapshot = 'Failover drill: in the snapshot';
    const afterSnapshot = 'Failover drill: after the snapshot';
    await ok(['exec', '-m', M, '--unit', 'postgresql/0', '--', addTalk(inSnapshot)]);
    // The scheduled backup lands in the store; the talk added after it is in no snapshot.
    await ok(['backup-store', '-c', LXC_CONTROLLER, '--local', join(work, 'store')]);
    await ok(['schedule', 'add', 'nightly', '-m', M, '--unit', 'postgresql/leader', '--action', 'backup', '--every', '1d']);
    const run = JSON.parse(await ok(['schedule', 'run', 'nightly', '-m', M, '--format', 'json'])) as { 'last-status': string; 'last-message': string; 'last-snapshot': string };
    expect(run['last-status'], run['last-message']).toBe('completed');
    const snapshot = run['last-snapshot'];
    await ok(['exec', '-m', M, '--unit', 'postgresql/0', '--', addTalk(afterSnapshot)]);

    const t = Date.now();
    // Its own deadline covers each wait (the deploy settling, then the restore); the harness adds its grace.
    const r = await sigil(['drill', 'failover', '--bundle', BUNDLE, '--to-model', D.split(':')[1]!, '-m', M, '--timeout', SETTLE]);
    const wallMs = Date.now() - t;
    expect(r.code, r.stderr.slice(-3000) + r.stdout).toBe(0);
    process.stderr.write(`conference failover drill (${(wallMs / 1000).toFixed(1)} s in all):\n${r.stdout}\n`);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Failover drill ${M} -> ${D}: passed`);
    const phases = lines.slice(1, -1).map((l) => /^ {2}(\S+)\s+(\S+) {2}(.*)$/.exec(l));
    expect(phases.map((p) => p?.[1])).toEqual(['backup', 'add-model', 'deploy', 'restore', 'verify']);
    const note = Object.fromEntries(phases.map((p) => [p![1], p![3]]));
    expect(note.backup).toMatch(new RegExp(`^postgresql: snapshot ${snapshot} of \\S+ from the backup store$`));
    expect(note.restore).toBe(`postgresql from snapshot ${snapshot}`);
    expect(note.verify).toMatch(/^5 units active; postgresql: 1 databases with the same tables \(django:\d+\); haproxy\/0 answers HTTP 200$/);
    // The recovery time is add-model to verified: the sum of those phases, each printed rounded.
    const recovery = /^ {2}recovery time \(add-model to verified\): (\S+)$/.exec(lines.at(-1)!);
    expect(recovery, lines.at(-1)).not.toBeNull();
    const recoveryMs = parseDuration(recovery![1]!);
    const sumMs = phases.slice(1).reduce((n, p) => n + parseDuration(p![2]!), 0);
    expect(Math.abs(recoveryMs - sumMs)).toBeLessThanOrEqual(2000);
    expect(recoveryMs).toBeLessThanOrEqual(wallMs);

    // The rebuilt database has the snapshot's rows, not the ones added after it.
    const talks = async (model: string) => (await ok(['exec', '-m', model, '--unit', 'postgresql/0', '--', PSQL("SELECT title FROM schedule_talk WHERE title LIKE 'Failover drill:%' ORDER BY title")])).trim();
    expect(await talks(M)).toBe(`${afterSnapshot}\n${inSnapshot}`);
    expect(await talks(D)).toBe(inSnapshot);
    expect((await ok(['exec', '-m', D, '--unit', 'postgresql/0', '--', PSQL('SELECT count(*) FROM schedule_talk')])).trim()).toBe('10');
  }, 780_000); // the drill's deadline of 10 m and the harness's grace, the backup and the queries
});

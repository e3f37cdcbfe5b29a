import { describe, expect, it, beforeAll } from 'vitest';
import { request } from 'node:http';
import { join } from 'node:path';
import { ROOT, canRunContainers, lxcModel, ok, status, unit, until } from './harness.ts';
import { canRun } from '../tests/ci.ts';

// HAProxy in front of http-backend units, on real containers: traffic from the host
// through the published port, backends following the relation, health checks, busy
// units drained, and no failed request while units come and go.
const HAPROXY = join(ROOT, 'charms', 'haproxy');
const BACKEND = join(ROOT, 'tests', 'charms', 'http-backend');
const STATS_PASSWORD = 'e2e-stats';
// The charm's defaults: check-inter 2s, check-rise 2, check-fall 3.
const INTER_MS = 2000;
const RISE = 2;
const FALL = 3;

interface Reply {
  status: number;
  body: string;
}

/** One GET on a new connection (no keep-alive: every request is a new connection to HAProxy). */
function get(host: string, port: number, path = '/', timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A bounded load loop: `workers` clients in a loop until stop(); every failure is kept with its reason. */
function load(port: number, workers = 4, pauseMs = 10) {
  let running = true;
  const answeredBy = new Map<string, number>();
  const failures: string[] = [];
  let sent = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      sent++;
      try {
        const r = await get('127.0.0.1', port);
        if (r.status === 200) answeredBy.set(r.body, (answeredBy.get(r.body) ?? 0) + 1);
        else failures.push(`HTTP ${r.status}: ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  return {
    answeredBy,
    async stop() {
      running = false;
      await Promise.all(loops);
      return { sent, failures, answeredBy };
    },
  };
}

describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('haproxy charm (real containers)', () => {
  let M: string;
  let port: number;

  const site = (path = '/') => get('127.0.0.1', port, path);
  const bodies = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = await site();
      expect(r.status).toBe(200);
      seen.add(r.body);
    }
    return seen;
  };
  /**
   * HAProxy's statistics (the stats page's CSV, read on the machine), by server name, with
   * the container's clock just before the read (containers share the host's clock), so that
   * `lastchg` (seconds since a server's last UP/DOWN change) dates the change by HAProxy's
   * own account, whatever the `exec` round trip costs on a busy host.
   */
  const statsAt = async () => {
    const out = await ok(['exec', '-m', M, '--unit', 'haproxy/0', '--', `date +%s%3N; curl -sf -u admin:${STATS_PASSWORD} 'http://127.0.0.1:8404/;csv'`]);
    const [at, header, ...rows] = out.trim().split('\n');
    const keys = header!.replace(/^# /, '').split(',');
    const servers = new Map<string, Record<string, string>>();
    for (const row of rows) {
      const r = Object.fromEntries(row.split(',').map((v, i) => [keys[i]!, v]));
      // HAProxy marks a check in progress with "* " before the last result (`* L7OK`).
      if (r.check_status) r.check_status = r.check_status.replace(/^\* /, '');
      if (r.pxname === 'haproxy_service' && r.svname !== 'BACKEND') servers.set(r.svname!, r);
    }
    return { at: Number(at), servers };
  };
  const stats = async () => (await statsAt()).servers;
  /** Runs a command on a unit and returns the unit's clock (ms) right after it finished. */
  const execAt = async (name: string, command: string) => Number((await ok(['exec', '-m', M, '--unit', name, '--', `${command} && date +%s%3N`])).trim().split('\n').pop());
  /** The http-backend's own counters: application requests received and health checks answered. */
  const counters = async (name: string) => JSON.parse(await ok(['exec', '-m', M, '--unit', name, '--', 'curl -sf http://127.0.0.1:8081/stats'])) as { requests: number; active: number; checks: number };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      const v = await probe().catch((e: unknown) => void (last = e));
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
  };
  /** When (unit clock, ms) HAProxy says a server last changed to a status starting with `want`. */
  const changedTo = async (server: string, want: string) =>
    waitFor(`${server} ${want}`, async () => {
      const { at, servers } = await statsAt();
      const r = servers.get(server);
      return r?.status?.startsWith(want) ? at - Number(r.lastchg) * 1000 : undefined;
    }, 30_000);

  beforeAll(async () => {
    M = await lxcModel('haproxy');
    await ok(['deploy', HAPROXY, '-m', M, '--config', `stats-password=${STATS_PASSWORD}`]);
    await ok(['deploy', BACKEND, '-m', M, '-n', '2']);
    await ok(['integrate', 'haproxy:reverseproxy', 'http-backend:website', '-m', M]);
    await ok(['expose', 'haproxy', '-m', M]);
    await ok(['wait', '-m', M, '--timeout', '8m']); // installs on a shared 2-core runner; the harness outwaits the CLI's deadline by a little
    const s = await until(M, 'frontend port published', (x) => (unit(x, 'haproxy/0')?.['published-ports'] ?? []).some((p) => p.endsWith('->80/tcp')), 30_000);
    const published = unit(s, 'haproxy/0')!['published-ports']!.find((p) => p.endsWith('->80/tcp'))!;
    port = Number(/^\*:(\d+)->80\/tcp$/.exec(published)![1]);
  }, 660_000); // add-model and four commands, the 8 m wait, the published port

  it('answers from the host through the published port, from both backends', async () => {
    const s = await status(M);
    expect(unit(s, 'haproxy/0')?.['workload-status']).toMatchObject({ current: 'active', message: '2 servers behind :80' });
    expect(await bodies(10)).toEqual(new Set(['http-backend/0', 'http-backend/1']));
    const servers = await stats();
    expect([...servers.keys()]).toEqual(['http-backend-0-8080', 'http-backend-1-8080']);
    for (const r of servers.values()) expect([r.status, r.check_status]).toEqual(['UP', 'L7OK']);
  }, 60_000);

  it('add-unit adds a backend that starts taking traffic', async () => {
    await ok(['add-unit', 'http-backend', '-m', M]);
    await ok(['wait', '-m', M, '--timeout', '8m']);
    await waitFor('http-backend/2 to answer', async () => ((await bodies(6)).has('http-backend/2') ? true : undefined), 30_000);
    expect(await bodies(9)).toEqual(new Set(['http-backend/0', 'http-backend/1', 'http-backend/2']));
  }, 600_000); // the new machine's install (8 m), then 30 s for HAProxy to send it traffic

  it('remove-unit takes the backend out with no failed request under load', async () => {
    const l = load(port);
    await waitFor('the load loop to reach every backend', async () => (['http-backend/0', 'http-backend/1', 'http-backend/2'].every((b) => l.answeredBy.has(b)) ? true : undefined), 30_000);
    await ok(['remove-unit', 'http-backend/2', '--yes', '-m', M]);
    await until(M, 'http-backend/2 gone', (x) => unit(x, 'http-backend/2') === undefined, 120_000);
    await waitFor('server removed from haproxy', async () => (!(await stats()).has('http-backend-2-8080') ? true : undefined), 60_000);
    const before = l.answeredBy.get('http-backend/2') ?? 0;
    // Enough traffic after the server left HAProxy to show none of it reaches the removed unit.
    const answered = () => [...l.answeredBy.values()].reduce((a, b) => a + b, 0);
    const since = answered();
    await waitFor('100 more answers after the removal', async () => (answered() - since >= 100 ? true : undefined), 30_000);
    const { sent, failures, answeredBy } = await l.stop();
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    expect(answeredBy.get('http-backend/2') ?? 0).toBe(before); // nothing after it left
    expect(await bodies(6)).toEqual(new Set(['http-backend/0', 'http-backend/1']));
  }, 300_000); // the unit's removal (2 m) and three polls (30 s, 60 s, 30 s)

  it('marks a stopped backend down within fall x inter, keeps answering, and brings it back', async () => {
    const l = load(port, 2, 50);
    try {
      const stopped = await execAt('http-backend/1', 'systemctl stop http-backend');
      // Dated by HAProxy's own `lastchg` (1 s resolution): three failed checks 2 s apart take
      // 4-6 s after the stop; allow one more interval and the second lastchg rounds down.
      const down = (await changedTo('http-backend-1-8080', 'DOWN')) - stopped;
      expect(down).toBeLessThan(FALL * INTER_MS + INTER_MS + 1000);
      expect(await bodies(6)).toEqual(new Set(['http-backend/0']));
      const started = await execAt('http-backend/1', 'systemctl start http-backend');
      const up = (await changedTo('http-backend-1-8080', 'UP')) - started;
      expect(up).toBeLessThan(RISE * INTER_MS + INTER_MS + 1000);
    } finally {
      // Whatever failed above, the next test needs both backends and no load loop left running.
      await ok(['exec', '-m', M, '--unit', 'http-backend/1', '--', 'systemctl start http-backend']);
      const { failures } = await l.stop();
      expect(failures).toEqual([]);
    }
    expect(await bodies(6)).toEqual(new Set(['http-backend/0', 'http-backend/1']));
  }, 150_000);

  it('gives a busy backend no new connections while its health checks still pass, even with every worker taken', async () => {
    const result = JSON.parse(await ok(['run', '-m', M, 'http-backend/0', 'busy', 'state=true', '--format', 'json'])) as Record<string, unknown>;
    expect(JSON.stringify(result)).toContain('"busy":"true"');
    await waitFor('http-backend-0 DRAIN', async () => ((await stats()).get('http-backend-0-8080')?.status === 'DRAIN' ? true : undefined), 30_000);
    // Take all four of its workers with slow requests straight to the unit: the application is really busy now.
    const address = unit(await status(M), 'http-backend/0')!['public-address']!;
    const slow = Array.from({ length: 4 }, () => get(address, 8080, '/slow?s=10', 20_000));
    const before = await counters('http-backend/0');
    expect(before.active).toBe(4);
    expect(await bodies(20)).toEqual(new Set(['http-backend/1']));
    // At least fall health checks answered while busy: were checks queued behind the work, the server would be DOWN by now.
    const after = await waitFor(`${FALL} health checks on the busy backend`, async () => {
      const c = await counters('http-backend/0');
      return c.checks - before.checks >= FALL ? c : undefined;
    }, 30_000);
    expect(after.requests).toBe(before.requests); // not one new application request
    expect(after.checks - before.checks).toBeGreaterThanOrEqual(FALL);
    expect((await stats()).get('http-backend-0-8080')).toMatchObject({ status: 'DRAIN', check_status: 'L7OK' });
    expect((await Promise.all(slow)).map((r) => r.body)).toEqual(Array(4).fill('http-backend/0'));

    await ok(['run', '-m', M, 'http-backend/0', 'busy', 'state=false']);
    await waitFor('http-backend-0 UP', async () => ((await stats()).get('http-backend-0-8080')?.status === 'UP' ? true : undefined), 30_000);
    expect(await bodies(6)).toEqual(new Set(['http-backend/0', 'http-backend/1']));
  }, 150_000);
});

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replicaFile } from '@sigil/api';
import { CHARMS, ok, poll, sigil, status, until, workload } from './harness.ts';
import { canRunBrowser, launchTrusting } from './browser.ts';
import { postgresBin, startCluster, type Cluster } from '../packages/controller/src/store/pg/cluster.ts';
import { canRun } from '../tests/ci.ts';
import { clusterSql } from './pg-cluster.ts';

// Two controller replicas sharing one PostgreSQL store (a throwaway cluster on loopback,
// started and stopped here): `enable-ha`, then the replica every agent talks to is killed
// (-9, supervisor too: its host is gone) in the middle of a deploy of 10 units. The agents
// move to the survivor within 5 s, `status` answers from it throughout, nothing acknowledged
// is lost and the deploy settles. Then PostgreSQL stops and starts: mutating calls fail with a
// clear error meanwhile, and the replicas recover by themselves. Its own controller.
const C = 'e2e-replicas';
const M = `${C}:default`;
const runnable = canRun(postgresBin() !== undefined, "Debian's postgresql");
const units = Array.from({ length: 10 }, (_, i) => `source/${i}`);
/** Whether a process runs (a zombie waiting for its reaper does not). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

let cluster: Cluster;
let pwDir = '';

const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => clusterSql<T>(cluster, 'sigil', text, values);

describe.runIf(runnable)('controller replicas on PostgreSQL', () => {
  const dir = () => join(process.env.SIGIL_HOME!, 'controllers', C);
  const pid = (file: string) => Number(readFileSync(join(dir(), file), 'utf8'));

  beforeAll(async () => {
    cluster = await startCluster({ durable: true });
    await clusterSql(cluster, 'postgres', 'CREATE DATABASE sigil');
    pwDir = mkdtempSync(join(tmpdir(), 'sigil-replicas-pw-'));
    writeFileSync(join(pwDir, 'pw'), cluster.password + '\n', { mode: 0o600 });
    await ok(['bootstrap', '--provider', 'local-process', C, '--store', cluster.url('sigil'), '--store-password-file', join(pwDir, 'pw'), '--timeout', '90s']);
  }, 120_000);
  afterAll(async () => {
    if (process.env.KEEP) return;
    await sigil(['destroy-controller', C, '--yes', '--timeout', '1m']);
    await cluster?.destroy();
    if (pwDir) rmSync(pwDir, { recursive: true, force: true });
  }, 120_000);

  it('refuses enable-ha on a SQLite controller, saying why', async () => {
    const r = await sigil(['enable-ha', 'e2e', '-n', '2']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('embedded SQLite file');
    expect(r.stderr).toContain('hint:');
  });

  it('enable-ha starts a second replica that serves the API and shares the work', async () => {
    const out = await ok(['enable-ha', C, '-n', '2']);
    expect(out).toMatch(/r0\s+https:\/\/127\.0\.0\.1:\d+\s+alive/);
    expect(out).toMatch(/r1\s+https:\/\/127\.0\.0\.1:\d+\s+alive/);
    // Both replicas hold leases: the controller's own work and the model's are spread.
    const leases = await poll('both replicas holding leases', async () => {
      const rows = await sql<{ key: string; holder: string }>('SELECT key, holder FROM leases WHERE expires > (extract(epoch from clock_timestamp()) * 1000)::bigint');
      return new Set(rows.map((r) => r.holder)).size === 2 ? rows : undefined;
    }, 20_000);
    expect(leases.map((l) => l.key).sort()).toEqual(['controller', 'model/default']);
    // `controllers` shows the replicas running, as Juju's HA column.
    const listed = JSON.parse(await ok(['controllers', '--format', 'json'])) as { controllers: Record<string, { ha: string }> };
    expect(listed.controllers[C]!.ha).toBe('2/2');
    expect(listed.controllers.e2e!.ha).toBe('none');
  }, 120_000);

  it('survives kill -9 of the replica the agents use during a deploy of 10 units: agents move within 5 s, status answers throughout, nothing acknowledged is lost', async () => {
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '-n', '10', '--config', 'token=one']);
    // The agents connect to the replica their machine was given (the one provisioning the
    // model, which holds its lease) as their machines start.
    const used = await poll('some agents connected', async () => {
      const rows = await sql<{ replica: string; n: string }>('SELECT replica, COUNT(*) AS n FROM presence GROUP BY replica ORDER BY COUNT(*) DESC');
      return rows[0] && Number(rows[0].n) >= 3 ? rows[0].replica : undefined;
    }, 60_000);
    const survivor = used === 'r0' ? 'r1' : 'r0';
    const n = Number(used.slice(1));
    await ok(['config', 'source', 'token=two', '-m', M]);

    // Its host is lost: supervisor and controller killed at once, nothing restarts it.
    const victim = pid(replicaFile('controller.pid', n));
    const connectedBefore = (await sql<{ machine: string }>('SELECT machine FROM presence WHERE replica = $1', [used])).map((r) => r.machine);
    process.kill(pid(replicaFile('supervisor.pid', n)), 'SIGKILL');
    process.kill(victim, 'SIGKILL');
    const killed = Date.now();
    // Every agent that was connected reconnects to the survivor (which records each connection in the store).
    const statusCalls: number[] = [];
    // Status is asked in the background meanwhile, one call after another: each must answer.
    let watching = true;
    const statusLoop = (async () => {
      while (watching) {
        const t = Date.now();
        await status(M); // the CLI moves to the survivor by itself when it used the victim
        statusCalls.push(Date.now() - t);
      }
    })();
    // When each reconnected is when the survivor accepted its watch (the row's `latest`, this
    // host's clock), not when this test, sharing the CPU with it, next looked.
    const moved = await poll(`every agent connected to ${survivor}`, async () => {
      const there = new Map((await sql<{ machine: string; latest: string }>('SELECT machine, latest FROM presence WHERE replica = $1', [survivor])).map((r) => [r.machine, Number(r.latest)]));
      return connectedBefore.every((m) => there.has(m)) ? Math.max(...connectedBefore.map((m) => there.get(m)!)) - killed : undefined;
    }, 30_000, 50);
    watching = false;
    await statusLoop;
    process.stderr.write(`replicas: ${connectedBefore.length} agents reconnected to ${survivor} ${moved} ms after kill -9 of ${used}; status calls meanwhile ${statusCalls.length} (max ${Math.max(...statusCalls)} ms)\n`);
    expect(moved).toBeLessThan(5000);
    expect(alive(victim)).toBe(false);

    // A change acknowledged by the survivor, and the one acknowledged before the kill, both hold.
    expect((await ok(['config', 'source', 'token', '-m', M])).trim()).toBe('two');
    await ok(['config', 'source', 'token=three', '-m', M]);
    // The deploy settles: the model's lease moved to the survivor (the victim's expired), and
    // its workers provision what was left.
    const s = await until(M, 'all 10 units active with token three', (st) => units.every((u) => workload(st, u) === 'active token=three'), 180_000);
    expect(Object.keys(s.applications.source!.units ?? {}).sort()).toEqual([...units].sort());
    // The victim's leases expire (10 s after its last renewal) and the survivor holds them all.
    await poll(`${survivor} holding every lease`, async () => {
      const holders = await sql<{ key: string; holder: string }>('SELECT key, holder FROM leases WHERE expires > (extract(epoch from clock_timestamp()) * 1000)::bigint ORDER BY key');
      return holders.length === 2 && holders.every((h) => h.holder === survivor) ? true : undefined;
    }, 30_000);
    // When it took them is what its log says (the deploy above may well have settled later).
    const taken = readFileSync(join(dir(), replicaFile('controller.log', Number(survivor.slice(1)))), 'utf8').split('\n')
      .filter((l) => l.includes('"lease taken"'))
      .map((l) => JSON.parse(l) as { time: number; lease: string; replica: string })
      .filter((l) => l.replica === survivor && l.time > killed);
    expect(taken.length, 'the survivor took the victim\'s leases').toBeGreaterThan(0);
    const took = Math.max(...taken.map((l) => l.time)) - killed;
    process.stderr.write(`replicas: ${survivor} took ${taken.map((l) => l.lease).join(', ')} ${took} ms after the kill\n`);
    expect(took).toBeLessThan(15_000);
  }, 300_000);

  it('while PostgreSQL is down mutating calls fail with a clear error; both replicas recover by themselves', async () => {
    // The killed replica comes back (its host returns): start-controller starts whatever replica is not running.
    await ok(['start-controller', C]);
    await poll('both replicas alive again', async () => ((await sql('SELECT id FROM controllers')).length === 2 ? true : undefined), 30_000);
    await cluster.stop();
    try {
      const r = await sigil(['config', 'source', 'token=four', '-m', M]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/the controller's database \(PostgreSQL at postgresql:\/\/sigil@127\.0\.0\.1:\d+\/sigil\) cannot be reached: .*; nothing was changed/);
      expect(r.stderr).toContain('hint:');
      expect(r.stderr).not.toContain(cluster.password);
    } finally {
      await cluster.start();
    }
    await ok(['config', 'source', 'token=four', '-m', M]);
    await until(M, 'token four on all 10 units', (st) => units.every((u) => workload(st, u) === 'active token=four'), 120_000);
    // Both replicas are alive again and share the leases.
    await poll('both replicas renewing leases', async () => {
      const rows = await sql<{ holder: string }>('SELECT holder FROM leases WHERE expires > (extract(epoch from clock_timestamp()) * 1000)::bigint');
      return new Set(rows.map((r) => r.holder)).size === 2 ? true : undefined;
    }, 30_000);
  }, 240_000);

  it.runIf(canRunBrowser())('the GUI moves to the other replica when the one it was served by stops, and stays logged in', async () => {
    const out = await ok(['gui', '--no-browser', '-m', M]);
    const link = /^(https:\/\/\S+\/gui\/login\?\S+)$/m.exec(out)?.[1] ?? '';
    expect(link, out).toMatch(/[?&]code=/);
    const browser = await launchTrusting(C);
    try {
      const page = await browser.newPage();
      await page.goto(link);
      await page.getByTestId('live').filter({ hasText: 'live' }).waitFor();
      await page.getByTestId('user').filter({ hasText: 'admin' }).waitFor();
      // The page knows where it can go: the header names the replica serving it, of two alive.
      await page.getByTestId('replicas').filter({ hasText: /^r\d+ of 2 replicas$/ }).waitFor({ timeout: 30_000 });
      const served = new URL(page.url()).port;
      // The replica that served the page stops (its host is lost).
      const config = JSON.parse(readFileSync(join(dir(), 'controller.json'), 'utf8')) as { port: number; replicaPorts: number[] };
      const n = [config.port, ...config.replicaPorts].indexOf(Number(served));
      expect(n, `port ${served} is a replica's`).toBeGreaterThanOrEqual(0);
      process.kill(pid(replicaFile('supervisor.pid', n)), 'SIGKILL');
      process.kill(pid(replicaFile('controller.pid', n)), 'SIGKILL');
      const t0 = Date.now();
      // The page reconnects a few times, then moves to the survivor: same path, logged in, live.
      await page.waitForURL((u) => u.port !== served && u.pathname.startsWith('/gui'), { timeout: 60_000 });
      await page.getByTestId('live').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
      await page.getByTestId('user').filter({ hasText: 'admin' }).waitFor();
      expect(new URL(page.url()).searchParams.get('model')).toBe('default');
      process.stderr.write(`replicas: the GUI was live on port ${new URL(page.url()).port} ${Date.now() - t0} ms after its replica (port ${served}) was killed\n`);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

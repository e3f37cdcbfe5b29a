import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CHARMS, ok, poll, sigil, until, workload } from './harness.ts';
import { postgresBin, startCluster, type Cluster } from '../packages/controller/src/store/pg/cluster.ts';
import { canRun } from '../tests/ci.ts';
import { clusterSql } from './pg-cluster.ts';

// A controller whose model lives in PostgreSQL (a throwaway cluster on loopback, started and
// stopped here): bootstrap checks the store first, the model survives a controller SIGKILL,
// PostgreSQL going away makes calls fail with a clear error, and the controller recovers by
// itself when it is back. Its own controller: this file stops its database.
const C = 'e2e-pgstore';
const M = `${C}:default`;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const runnable = canRun(postgresBin() !== undefined, "Debian's postgresql");

let cluster: Cluster;
let pwFile: string;
const dbUrl = () => cluster.url('sigil');

const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => clusterSql<T>(cluster, 'sigil', text, values);

describe.runIf(runnable)('a controller on PostgreSQL', () => {
  beforeAll(async () => {
    cluster = await startCluster({ durable: true });
    await clusterSql(cluster, 'postgres', 'CREATE DATABASE sigil');
    const dir = mkdtempSync(join(tmpdir(), 'sigil-pgpw-'));
    pwFile = join(dir, 'pw');
    writeFileSync(pwFile, cluster.password + '\n', { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    await sigil(['destroy-controller', C, '--yes', '--timeout', '1m']);
    await cluster?.destroy();
    if (pwFile) rmSync(join(pwFile, '..'), { recursive: true, force: true });
  }, 120_000);

  it('refuses a bad store before creating anything, naming the reason', async () => {
    const controllers = () => readFileSync(join(process.env.SIGIL_HOME!, 'controllers.yaml'), 'utf8');
    const inUrl = await sigil(['bootstrap', '--provider', 'local-process', 'pg-bad', '--store', `postgresql://sigil:${cluster.password}@127.0.0.1:${cluster.port}/sigil`]);
    expect(inUrl.code).not.toBe(0);
    expect(inUrl.stderr).toContain('the URL carries a password');
    expect(inUrl.stderr).toContain('hint:');
    const wrong = join(pwFile, '..', 'wrong');
    writeFileSync(wrong, 'not-the-password', { mode: 0o600 });
    const r = await sigil(['bootstrap', '--provider', 'local-process', 'pg-bad', '--store', dbUrl(), '--store-password-file', wrong]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot use the store postgresql:\/\/sigil@127\.0\.0\.1:\d+\/sigil: .*password authentication failed/);
    expect(r.stderr).toContain('nothing was created');
    expect(r.stderr).not.toMatch(/\bat \S+ \(/);
    const noDb = await sigil(['bootstrap', '--provider', 'local-process', 'pg-bad', '--store', cluster.url('absent'), '--store-password-file', pwFile]);
    expect(noDb.stderr).toMatch(/database "absent" does not exist/);
    expect(existsSync(join(process.env.SIGIL_HOME!, 'controllers', 'pg-bad'))).toBe(false);
    expect(controllers()).not.toContain('pg-bad');
  }, 120_000);

  it('keeps the model in PostgreSQL: deploy, a SIGKILLed controller comes back with it, the password is nowhere but its 0600 file', async () => {
    await ok(['bootstrap', '--provider', 'local-process', C, '--store', dbUrl(), '--store-password-file', pwFile, '--timeout', '90s']);
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '-n', '2', '--config', 'token=one']);
    await until(M, 'source active', (s) => workload(s, 'source/0') === 'active token=one' && workload(s, 'source/1') === 'active token=one', 60_000);
    // The model is in the database, not in a file beside the controller.
    const dir = join(process.env.SIGIL_HOME!, 'controllers', C);
    expect(existsSync(join(dir, 'state.db'))).toBe(false);
    expect((await sql<{ name: string }>("SELECT name FROM units WHERE model = 'default' ORDER BY name")).map((r) => r.name)).toEqual(['source/0', 'source/1']);
    // Revisions come from the database and grow.
    const rev = Number((await sql<{ rev: string }>('SELECT MAX(rev) AS rev FROM change_log'))[0]!.rev);
    expect(rev).toBeGreaterThan(0);

    const pid = Number(readFileSync(join(dir, 'controller.pid'), 'utf8'));
    await ok(['config', 'source', 'token=two', '-m', M]);
    process.kill(pid, 'SIGKILL');
    await until(M, 'the new token after the restart', (s) => workload(s, 'source/0') === 'active token=two' && workload(s, 'source/1') === 'active token=two', 45_000);
    expect(Number(readFileSync(join(dir, 'controller.pid'), 'utf8'))).not.toBe(pid);

    // The password: only in the 0600 file, never in a log, the config, or a command line.
    expect(statSync(join(dir, 'store-password')).mode & 0o777).toBe(0o600);
    // SIGIL_HOME's own files and everything of this controller (its logs, config, machines);
    // not the shared base images, which hold nothing of it.
    const files = execFileSync('find', [process.env.SIGIL_HOME!, '-maxdepth', '1', '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    files.push(...execFileSync('find', [dir, '-type', 'f', '!', '-name', 'store-password'], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean));
    expect(files.some((f) => f.endsWith('controller.log'))).toBe(true);
    for (const f of files) expect(readFileSync(f).includes(cluster.password), f).toBe(false);
    for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      expect(cmdline.includes(cluster.password), `process ${p}`).toBe(false);
    }
  }, 240_000);

  it('fails calls with a clear error while PostgreSQL is down, and recovers by itself when it is back', async () => {
    await cluster.stop();
    try {
      const r = await sigil(['config', 'source', 'token=three', '-m', M]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/the controller's database \(PostgreSQL at postgresql:\/\/sigil@127\.0\.0\.1:\d+\/sigil\) cannot be reached: .*; nothing was changed/);
      expect(r.stderr).toContain('hint:');
      expect(r.stderr).not.toContain(cluster.password);
    } finally {
      await cluster.start();
    }
    // No restart of the controller: its next calls reconnect.
    const pid = Number(readFileSync(join(process.env.SIGIL_HOME!, 'controllers', C, 'controller.pid'), 'utf8'));
    await until(M, 'the controller answering again', () => true, 30_000);
    expect((await ok(['config', 'source', 'token', '-m', M])).trim()).toBe('two');
    await ok(['config', 'source', 'token=three', '-m', M]);
    await until(M, 'token three everywhere', (s) => workload(s, 'source/0') === 'active token=three' && workload(s, 'source/1') === 'active token=three', 60_000);
    expect(Number(readFileSync(join(process.env.SIGIL_HOME!, 'controllers', C, 'controller.pid'), 'utf8'))).toBe(pid);
  }, 180_000);

  it('backs the store up with pg_dump, and restore-backup on a fresh host loads it into an empty database; the agents reconnect', async () => {
    const dir = join(process.env.SIGIL_HOME!, 'controllers', C);
    const file = join(pwFile, '..', 'pg-backup.tar.gz');
    await ok(['create-backup', '-c', C, '--filename', file]);
    const listed = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' });
    expect(listed).toContain('state.pgdump');
    expect(listed).not.toContain('state.db');
    // The old host is lost: its controller stops (its machines' agents keep running and keep
    // dialling its address) and the database is replaced by an empty one.
    const serving = Number(readFileSync(join(dir, 'controller.pid'), 'utf8'));
    process.kill(Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
    await poll('the old controller to stop', async () => (alive(serving) ? undefined : true), 20_000);
    const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'sigil', password: cluster.password, database: 'postgres' });
    await admin.connect();
    try {
      for (let i = 0; ; i++) {
        try {
          await admin.query('DROP DATABASE sigil WITH (FORCE)');
          break;
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await admin.query('CREATE DATABASE sigil');
    } finally {
      await admin.end();
    }
    // A fresh SIGIL_HOME, as on a new host; restored at the old address.
    const home = mkdtempSync(join(tmpdir(), 'sigil-pg-restore-'));
    const saved = process.env.SIGIL_HOME;
    process.env.SIGIL_HOME = home;
    try {
      await ok(['restore-backup', file, '--timeout', '90s']);
      expect((await sql<{ name: string }>("SELECT name FROM units WHERE model = 'default' ORDER BY name")).map((r) => r.name)).toEqual(['source/0', 'source/1']);
      const out = await ok(['status', '-m', M, '--format', 'json']);
      expect(Object.keys((JSON.parse(out) as { applications: Record<string, unknown> }).applications)).toEqual(['source']);
      await ok(['config', 'source', 'token=four', '-m', M]);
      // The running agents reconnect to the restored controller and act on the change.
      for (let i = 0; ; i++) {
        const st = JSON.parse(await ok(['status', '-m', M, '--format', 'json'])) as { applications: { source: { units: Record<string, { 'workload-status': { message?: string } }> } } };
        const msgs = Object.values(st.applications.source.units).map((u) => u['workload-status'].message);
        if (msgs.length === 2 && msgs.every((m) => m === 'token=four')) break;
        if (i > 120) throw new Error(`agents did not act on the restored controller: ${JSON.stringify(msgs)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await sigil(['destroy-controller', C, '--yes', '--timeout', '1m']);
      process.env.SIGIL_HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  }, 300_000);
});

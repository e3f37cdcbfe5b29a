import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARMS, ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

/** Installs run alongside other suites' installs on a 2-core runner: minutes each. */
const INSTALL = '8m';

// The postgresql charm on real machines: PostgreSQL 15 from Debian 12 serving the db-client
// test charm over Juju's legacy pgsql interface, on the shared LXC controller.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('postgresql charm (real containers)', () => {
  let M = '';
  let addr = '';
  /** What postgresql/0 published to the client, read from the client's side of the relation. */
  let creds: Record<string, string> = {};
  const scratch = mkdtempSync(join(tmpdir(), 'sigil-postgresql-'));

  /** Runs SQL through the client's query action; `as` overrides the relation's credentials. */
  async function query(sql: string, as: Record<string, string> = {}): Promise<string> {
    const args = Object.entries(as).map(([k, v]) => `${k}=${v}`);
    const out = await ok(['run', '-m', M, 'db-client/0', 'query', 'endpoint=db', `sql=${sql}`, ...args, '--string-args', '--format', 'json']);
    return (JSON.parse(out) as { output: string }).output;
  }

  /** SQL as the postgres superuser on a PostgreSQL unit (over its local socket). */
  async function superuser(u: string, database: string, sql: string): Promise<string> {
    return (await ok(['exec', '-m', M, '--unit', u, '--', `psql -U postgres -At -d '${database}' -c "${sql}"`])).trim();
  }

  /** Waits for the model to settle; the harness outwaits the CLI's own deadline by a little. */
  async function settle(timeout: string) {
    const w = await sigil(['wait', '-m', M, '--timeout', timeout]);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  }

  async function published(): Promise<Record<string, string>> {
    const doc = JSON.parse(await ok(['show-unit', '-m', M, 'db-client/0', '--format', 'json'])) as Record<
      string,
      { 'relation-info': { endpoint: string; 'related-units': Record<string, { data: Record<string, string> }> }[] }
    >;
    const rel = doc['db-client/0']!['relation-info'].find((r) => r.endpoint === 'db');
    return rel?.['related-units']['postgresql/0']?.data ?? {};
  }

  beforeAll(async () => {
    M = await lxcModel('postgresql');
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await sigil(['destroy-model', M, '--yes', '--timeout', '2m']);
  }, 180_000);

  it('relates to the client, which connects with its own database and role', async () => {
    const t = Date.now();
    await ok(['deploy', join(ROOT, 'charms', 'postgresql'), '-m', M]);
    await ok(['deploy', join(CHARMS, 'db-client'), '-m', M]);
    // The restore target for the backup test, deployed now so the machines install together.
    await ok(['deploy', join(ROOT, 'charms', 'postgresql'), 'pg-restore', '-m', M]);
    await ok(['integrate', 'db-client:db', 'postgresql:db', '-m', M]);
    await settle(INSTALL);
    process.stderr.write(`postgresql + db-client (+ pg-restore) deployed, related and connected in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    const s = await status(M);
    addr = unit(s, 'postgresql/0')!['public-address']!;
    expect(workload(s, 'postgresql/0')).toBe(`active PostgreSQL 15 on ${addr}:5432`);
    expect(unit(s, 'postgresql/0')?.['open-ports']).toEqual(['5432/tcp']);
    creds = await published();
    expect(creds).toMatchObject({ host: addr, port: '5432', database: 'db-client', user: 'juju_db-client', schema_user: 'juju_db-client', 'allowed-units': 'db-client/0', state: 'standalone', version: '15' });
    expect(creds.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(creds.schema_password).toBe(creds.password);
    expect(workload(s, 'db-client/0')).toBe(`active db: juju_db-client@${addr}/db-client`);

    expect(await query("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'kept'), (2, 'safe'); SELECT body FROM notes ORDER BY id")).toBe('CREATE TABLE\nINSERT 0 2\nkept\nsafe');
    expect(await query('SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user')).toBe('juju_db-client|db-client|f');
    // pg_hba.conf admits the client's address, for its database and role only.
    const clientAddr = unit(s, 'db-client/0')!['public-address']!;
    const hba = await ok(['exec', '-m', M, '--unit', 'postgresql/0', '--', 'grep', '^host', '/etc/postgresql/15/main/pg_hba.conf']);
    const rules = hba.trim().split('\n');
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatch(new RegExp(`^host    "db-client"  "juju_db-client"  ${clientAddr.replace(/\./g, '\\.')}/32  scram-sha-256  # db-client/0 \\(db:\\d+\\)$`));
    expect(rules[1]).toBe('host    all       all   all         reject');
    const other = await sigil(['run', '-m', M, 'db-client/0', 'query', 'endpoint=db', 'sql=SELECT 1', 'database=postgres', '--string-args']);
    expect(other.code).not.toBe(0);
    expect(other.stderr + other.stdout).toContain('pg_hba.conf rejects connection');
  }, 600_000); // four commands, the installs (8 m), then the checks

  it('reloads for work_mem, restarts for max_connections, and blocks on a bad value while serving on the last good one', async () => {
    const started = () => query('SELECT pg_postmaster_start_time()');
    const before = await started();
    await ok(['config', 'postgresql', '-m', M, 'work_mem=8MB']);
    await settle('1m');
    expect(await query('SHOW work_mem')).toBe('8MB');
    expect(await started()).toBe(before); // a reload, not a restart

    await ok(['config', 'postgresql', '-m', M, 'max_connections=120']);
    await settle('1m');
    expect(await query('SHOW max_connections')).toBe('120');
    expect(await started()).not.toBe(before);

    // PostgreSQL's own parser refuses the value; the charm never writes it.
    await ok(['config', 'postgresql', '-m', M, 'work_mem=1kB']);
    const s = await until(M, 'postgresql/0 blocked', (x) => workload(x, 'postgresql/0').startsWith('blocked'), 60_000);
    expect(workload(s, 'postgresql/0')).toBe('blocked work_mem=1kB is rejected by PostgreSQL: 1 kB is outside the valid range for parameter "work_mem" (64 .. 2147483647)');
    expect(await query('SHOW work_mem')).toBe('8MB');
    expect((await ok(['exec', '-m', M, '--unit', 'postgresql/0', '--', 'grep', '^work_mem', '/etc/postgresql/15/main/conf.d/50-sigil.conf'])).trim()).toBe("work_mem = '8MB'");

    await ok(['config', 'postgresql', '-m', M, 'work_mem=16MB']);
    await until(M, 'postgresql/0 active again', (x) => workload(x, 'postgresql/0') === `active PostgreSQL 15 on ${addr}:5432`, 60_000);
    await settle('1m');
    expect(await query('SHOW work_mem')).toBe('16MB');
  }, 420_000); // three 1 m waits and two 60 s polls

  it('backs up a database and restores it into a fresh unit, owner and data intact', async () => {
    const backup = JSON.parse(await ok(['run', '-m', M, 'postgresql/0', 'backup', 'database=db-client', '--string-args', '--format', 'json'])) as { path: string; databases: string };
    expect(backup.path).toMatch(/^\/var\/backups\/postgresql\/db-client-\d{8}T\d{6}Z\.dump$/);
    expect(backup.databases).toBe('db-client');

    // Machines have no route to each other's files: copy through the host.
    const local = join(scratch, 'db-client.dump');
    await ok(['scp', '-m', M, `postgresql/0:${backup.path}`, local]);
    await ok(['scp', '-m', M, local, 'pg-restore/0:/tmp/db-client.dump']);
    const restored = JSON.parse(await ok(['run', '-m', M, 'pg-restore/0', 'restore', 'path=/tmp/db-client.dump', '--string-args', '--format', 'json'])) as { databases: string };
    expect(restored.databases).toBe('db-client');

    expect(await superuser('pg-restore/0', 'db-client', 'SELECT body FROM notes ORDER BY id')).toBe('kept\nsafe');
    // The client's role owns its table again, without a login until a relation gives it one.
    expect(await superuser('pg-restore/0', 'db-client', "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")).toBe('juju_db-client');
    expect(await superuser('pg-restore/0', 'postgres', "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'juju_db-client'")).toBe('f');
  }, 120_000);

  it("removing the relation revokes the client's credentials", async () => {
    // The port is 5432 (checked above), the client's default: the action types it as an integer.
    const saved = { host: creds.host!, user: creds.user!, password: creds.password!, database: creds.database! };
    expect(await query('SELECT count(*) FROM notes', saved)).toBe('2');
    await ok(['remove-relation', 'db-client', 'postgresql', '-m', M]);
    await settle('1m');

    const r = await sigil(['run', '-m', M, 'db-client/0', 'query', 'endpoint=db', 'sql=SELECT count(*) FROM notes', ...Object.entries(saved).map(([k, v]) => `${k}=${v}`), '--string-args']);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain('pg_hba.conf rejects connection');
    // Not only the door: the role has no login and no password left, and its data stays.
    expect(await superuser('postgresql/0', 'postgres', "SELECT rolcanlogin, rolpassword IS NULL FROM pg_authid WHERE rolname = 'juju_db-client'")).toBe('f|t');
    expect(await superuser('postgresql/0', 'db-client', 'SELECT count(*) FROM notes')).toBe('2');
    expect(workload(await status(M), 'postgresql/0')).toBe(`active PostgreSQL 15 on ${addr}:5432`);
  }, 150_000);
});

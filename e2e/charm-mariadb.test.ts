import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { CHARMS, ROOT, canRunContainers, lxcModel, ok, sigil, status, unit, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

/** Installs run alongside other suites' installs on a 2-core runner: minutes each. */
const INSTALL = '8m';

// The mariadb charm on real machines: MariaDB from Debian 12 serving the db-client test
// charm over Juju's legacy mysql interface, on the shared LXC controller.
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('mariadb charm (real containers)', () => {
  let M = '';
  const scratch = mkdtempSync(join(tmpdir(), 'sigil-mariadb-'));

  /** Runs SQL through the client's query action; `as` overrides the relation's credentials. */
  async function query(sql: string, as: Record<string, string> = {}): Promise<string> {
    const out = await ok(['run', '-m', M, 'db-client/0', 'query', 'endpoint=mysql', ...params({ sql, ...as }), '--format', 'json']);
    return (JSON.parse(out) as { output: string }).output;
  }

  async function variables(names: string[]): Promise<Record<string, string>> {
    const rows = await query(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(',')})`);
    return Object.fromEntries(rows.split('\n').map((r) => r.split('\t') as [string, string]));
  }

  const uptime = async () => Number(await query("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'"));

  /** Action parameters (parsed as YAML): strings quoted, so a password never turns into a number; the port as a number. */
  const params = (p: Record<string, string>) => Object.entries(p).map(([k, v]) => `${k}=${k === 'port' ? v : JSON.stringify(v)}`);

  /** Polls `get` until it returns `want` (settings reach MariaDB after the hook that applies them). */
  async function eventually<T>(what: string, get: () => Promise<T>, want: T, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await get();
      if (isDeepStrictEqual(last, want)) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(last, `timed out waiting for ${what}`).toEqual(want);
  }

  /** Waits for the model to settle; the harness outwaits the CLI's own deadline by a little. */
  async function settle(timeout: string) {
    const w = await sigil(['wait', '-m', M, '--timeout', timeout]);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  }

  beforeAll(async () => {
    M = await lxcModel('mariadb');
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await sigil(['destroy-model', M, '--yes', '--timeout', '2m']);
  }, 180_000);

  it('relates to the client, which connects with its own database and user', async () => {
    const t = Date.now();
    await ok(['deploy', join(ROOT, 'charms', 'mariadb'), '-m', M]);
    await ok(['deploy', join(CHARMS, 'db-client'), '-m', M]);
    await ok(['integrate', 'db-client:mysql', 'mariadb:db', '-m', M]);
    await settle(INSTALL);
    process.stderr.write(`mariadb + db-client deployed, related and connected in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    const s = await status(M);
    const addr = unit(s, 'mariadb/0')!['public-address']!;
    expect(workload(s, 'mariadb/0')).toBe(`active ready on ${addr}:3306`);
    const creds = JSON.parse(await ok(['run', '-m', M, 'db-client/0', 'credentials', 'endpoint=mysql', '--format', 'json'])) as Record<string, string>;
    expect(creds).toMatchObject({ host: addr, port: '3306', database: 'db-client', slave: 'False' });
    expect(creds.user).toMatch(/^db-client_\d+$/);
    expect(workload(s, 'db-client/0')).toBe(`active mysql: ${creds.user}@${addr}/db-client`);
    expect(creds.password).toMatch(/^[A-Za-z0-9_-]{24}$/);

    expect(await query("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'kept'), (2, 'safe'); SELECT body FROM notes ORDER BY id")).toBe('kept\nsafe');
    // Its grant is its own database only.
    const r = await sigil(['run', '-m', M, 'db-client/0', 'query', 'endpoint=mysql', ...params({ sql: 'SELECT COUNT(*) FROM mysql.user' })]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain(`command denied to user '${creds.user}'`);
  }, 600_000); // three commands, the install (8 m), then the checks

  it('applies dynamic settings live and a new port with a restart the client follows', async () => {
    // A second unit installs meanwhile: the fresh server the restore test needs.
    await ok(['add-unit', 'mariadb', '-m', M]);
    const before = { uptime: await uptime(), at: Date.now() };
    await ok(['config', 'mariadb', '-m', M, 'max-connections=321', 'innodb-buffer-pool-size=256M', 'query-cache-type=ON', 'wait-timeout=600']);
    const tuned = { max_connections: '321', innodb_buffer_pool_size: String(256 * 1024 * 1024), query_cache_type: 'ON', wait_timeout: '600' };
    await eventually('the new settings', () => variables(Object.keys(tuned)), tuned);
    // Applied without a restart: the server's uptime kept counting.
    expect(await uptime()).toBeGreaterThanOrEqual(before.uptime + Math.floor((Date.now() - before.at) / 1000) - 2);

    await ok(['config', 'mariadb', '-m', M, 'port=3307']);
    await until(M, 'port 3307', (s) => (unit(s, 'mariadb/0')?.['open-ports'] ?? []).includes('3307/tcp') && workload(s, 'mariadb/0').endsWith(':3307'), 60_000);
    await eventually('the client on the new port', () => query('SELECT @@port'), '3307');
    expect(await variables(['max_connections'])).toEqual({ max_connections: '321' });
  }, 180_000); // two 30 s polls and a 60 s wait for the port

  it('blocks on a bad value, naming it, while MariaDB keeps answering on its last good config', async () => {
    await ok(['config', 'mariadb', '-m', M, 'max-connections=5', 'innodb-buffer-pool-size=64G']);
    const s = await until(M, 'mariadb/0 blocked', (x) => workload(x, 'mariadb/0').startsWith('blocked'), 60_000);
    expect(workload(s, 'mariadb/0')).toMatch(/^blocked max-connections=5 is out of range: use 10-100000, or -1 for the server's default; innodb-buffer-pool-size=64G is not less than this machine's memory/);
    expect(await query('SELECT body FROM notes WHERE id = 1')).toBe('kept');
    expect(await variables(['max_connections', 'innodb_buffer_pool_size'])).toEqual({ max_connections: '321', innodb_buffer_pool_size: String(256 * 1024 * 1024) });

    await ok(['config', 'mariadb', '-m', M, 'max-connections=-1', 'innodb-buffer-pool-size=']);
    await until(M, 'mariadb/0 active again', (x) => workload(x, 'mariadb/0').startsWith('active'), 60_000);
    await eventually('the default max_connections', () => variables(['max_connections']), { max_connections: '151' });
  }, 210_000); // two 60 s waits and a 30 s poll

  it('backs up, and a fresh unit restored from the dump has the data', async () => {
    const backup = JSON.parse(await ok(['run', '-m', M, 'mariadb/0', 'backup', '--format', 'json'])) as { path: string; databases: string };
    expect(backup.path).toMatch(/^\/var\/backups\/mariadb-\d{8}-\d{6}\.sql$/);
    expect(backup.databases).toBe('db-client');
    const local = join(scratch, 'dump.sql');
    await ok(['scp', '-m', M, `mariadb/0:${backup.path}`, local]);
    expect(readFileSync(local, 'utf8')).toContain('INSERT INTO `notes` VALUES');

    await settle(INSTALL); // mariadb/1, added two tests ago, may still be installing
    const s = await status(M);
    expect(workload(s, 'mariadb/1')).toMatch(/^active ready on .*:3307 \(standalone: the leader serves relations\)$/);
    const fresh = () => ok(['exec', '-m', M, '--unit', 'mariadb/1', '--', 'mariadb', '-NB', '-D', 'db-client', '-e', '"SELECT body FROM notes ORDER BY id"']);
    await expect(fresh()).rejects.toThrow(/Unknown database 'db-client'/);
    await ok(['scp', '-m', M, local, 'mariadb/1:/var/backups/from-mariadb-0.sql']);
    expect(JSON.parse(await ok(['run', '-m', M, 'mariadb/1', 'restore', 'path=/var/backups/from-mariadb-0.sql', '--format', 'json']))).toEqual({ restored: '/var/backups/from-mariadb-0.sql' });
    expect((await fresh()).trim()).toBe('kept\nsafe');
  }, 600_000); // the new unit's install (8 m), backup, copies and restore

  it('removing the relation drops the user: the credentials the client saved stop working', async () => {
    const creds = JSON.parse(await ok(['run', '-m', M, 'db-client/0', 'credentials', 'endpoint=mysql', '--format', 'json'])) as Record<string, string>;
    const saved = { host: creds.host!, port: creds.port!, user: creds.user!, password: creds.password!, database: creds.database! };
    expect(await query('SELECT COUNT(*) FROM notes', saved)).toBe('2');
    await ok(['remove-relation', 'db-client:mysql', 'mariadb:db', '-m', M]);
    const refused = async () => {
      const r = await sigil(['run', '-m', M, 'db-client/0', 'query', 'endpoint=mysql', ...params({ sql: 'SELECT 1', ...saved })]);
      return r.code === 0 ? 'still works' : r.stderr + r.stdout;
    };
    await eventually('the saved credentials to stop working', async () => /Access denied for user/.test(await refused()), true, 60_000);
    expect(await refused()).toContain(`Access denied for user '${saved.user}'`);
  }, 120_000);
});

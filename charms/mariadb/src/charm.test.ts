import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build, userName } from './charm.ts';
import { renderSettings } from './settings.ts';
import type { Grant, Workload } from './workload.ts';

const GIB = 1024 ** 3;

/** A MariaDB in memory: the config file, whether it runs, databases and users; every call is recorded. */
class FakeMariadb implements Workload {
  calls: string[] = [];
  config: string | undefined;
  running = false;
  databases = new Set<string>();
  users = new Map<string, { password: string; grant: Grant }>();
  /** Makes restart fail while the config file contains this text. */
  refuse: string | undefined;
  failSet = false;

  constructor(init: { config?: string; running?: boolean } = {}) {
    this.config = init.config;
    this.running = init.running ?? false;
  }

  async install() {
    this.calls.push('install');
    this.running = true;
  }
  async version() {
    return '10.11.6';
  }
  async memoryBytes() {
    return 2 * GIB;
  }
  async readConfig() {
    return this.config;
  }
  async writeConfig(text: string) {
    this.calls.push('writeConfig');
    this.config = text;
  }
  async isRunning() {
    return this.running;
  }
  async restart() {
    this.calls.push('restart');
    this.running = !(this.refuse && this.config?.includes(this.refuse));
    if (!this.running) throw new Error("Can't start server: Bind on TCP/IP port: Address already in use");
  }
  async setGlobal(name: string, value: string | null) {
    this.calls.push(`set ${name}=${value ?? 'DEFAULT'}`);
    if (this.failSet) throw new Error('SQL failed: Variable is read only');
  }
  async ensureDatabase(name: string) {
    this.databases.add(name);
  }
  async ensureUser(user: string, password: string, grant: Grant) {
    this.users.set(user, { password, grant });
  }
  async dropUser(user: string) {
    this.calls.push(`drop ${user}`);
    this.users.delete(user);
  }
  async backup() {
    if (this.databases.size === 0) throw new Error('there is no application database to back up');
    return { path: '/var/backups/mariadb-20260101-120000.sql', databases: [...this.databases] };
  }
  async restore(path: string) {
    this.calls.push(`restore ${path}`);
  }
}

const running = (settings: Record<string, string>) => new FakeMariadb({ config: renderSettings(settings), running: true });
const BASE = { bind_address: '10.0.0.10', port: '3306', query_cache_type: 'OFF' };

describe('install and configuration', () => {
  test('install puts MariaDB on the machine and reports its version', async () => {
    const w = new FakeMariadb();
    const out = await run(build(w), event.install(), state(spec));
    expect(w.calls).toEqual(['install']);
    expect(out.workloadVersion).toBe('10.11.6');
  });

  test('between install and the first config-changed (leader-elected comes first) the status names no address', async () => {
    const w = new FakeMariadb();
    const installed = await run(build(w), event.install(), state(spec));
    for (const hook of [event.leaderElected(), event.updateStatus()]) {
      const out = await run(build(w), hook, { ...installed, leader: true });
      expect(out.unitStatus).toEqual({ name: 'maintenance', message: 'configuring MariaDB' });
    }
  });

  test('the first config-changed binds MariaDB to the machine address, restarts it and opens its port', async () => {
    const w = new FakeMariadb({ running: true });
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true }));
    expect(w.config).toBe(renderSettings(BASE));
    expect(w.calls).toEqual(['writeConfig', 'restart']);
    expect(out.ports).toEqual([{ port: 3306, protocol: 'tcp' }]);
    expect(out.unitStatus).toEqual({ name: 'active', message: 'ready on 10.0.0.10:3306' });
  });

  test('an unchanged config touches nothing', async () => {
    const w = running(BASE);
    await run(build(w), event.configChanged(), state(spec));
    expect(w.calls).toEqual([]);
  });

  test('dynamic settings are applied with SET GLOBAL, without a restart', async () => {
    const w = running(BASE);
    const out = await run(build(w), event.configChanged(), state(spec, { config: { 'max-connections': 300, 'innodb-buffer-pool-size': '256M', 'query-cache-type': 'demand' } }));
    expect(w.calls).toEqual(['writeConfig', 'set innodb_buffer_pool_size=268435456', 'set max_connections=300', 'set query_cache_type=DEMAND']);
    expect(out.unitStatus?.name).toBe('active');
  });

  test('going back to -1 sets the server default again', async () => {
    const w = running({ ...BASE, max_connections: '300' });
    await run(build(w), event.configChanged(), state(spec));
    expect(w.calls).toEqual(['writeConfig', 'set max_connections=DEFAULT']);
  });

  test('a setting MariaDB refuses to change live is applied by a restart', async () => {
    const w = running(BASE);
    w.failSet = true;
    const out = await run(build(w), event.configChanged(), state(spec, { config: { 'wait-timeout': 600 } }));
    expect(w.calls).toEqual(['writeConfig', 'set wait_timeout=600', 'restart']);
    expect(out.logs.map((l) => l.message)).toContain('SET GLOBAL wait_timeout failed, restarting instead: SQL failed: Variable is read only');
  });

  test('a new port restarts MariaDB, moves the opened port and is republished to related applications', async () => {
    const w = running(BASE);
    const s = state(spec, {
      leader: true,
      config: { port: 3307 },
      ports: [{ port: 3306, protocol: 'tcp' }],
      relations: [{ endpoint: 'db', id: 4, remoteApp: 'wordpress', remoteUnits: { 'wordpress/0': {} } }],
    });
    const out = await run(build(w), event.configChanged(), s);
    expect(w.calls).toEqual(['writeConfig', 'restart']);
    expect(out.ports).toEqual([{ port: 3307, protocol: 'tcp' }]);
    expect(out.relations[0]!.localUnitData.port).toBe('3307');
    expect(out.unitStatus).toEqual({ name: 'active', message: 'ready on 10.0.0.10:3307' });
  });
});

describe('bad config blocks the unit and leaves MariaDB on its last good config', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['port', { port: 80 }, 'port=80 is out of range: use 1024-65535 (MariaDB does not run as root)'],
    ['max-connections', { 'max-connections': 5 }, "max-connections=5 is out of range: use 10-100000, or -1 for the server's default"],
    ['query-cache-type', { 'query-cache-type': 'SOMETIMES' }, 'query-cache-type=SOMETIMES is not a query cache type: use OFF, ON or DEMAND'],
    ['a buffer pool that is not a size', { 'innodb-buffer-pool-size': 'lots' }, 'innodb-buffer-pool-size=lots is not a size: use bytes or a number with K, M or G, e.g. 512M'],
    ['a buffer pool as large as the machine', { 'innodb-buffer-pool-size': '2G' }, "innodb-buffer-pool-size=2G is not less than this machine's memory (2G): use less"],
    ['two bad options', { 'wait-timeout': 0, 'query-cache-size': -2 }, "wait-timeout=0 is out of range: use 1-31536000 seconds, or -1 for the server's default; query-cache-size=-2 is out of range: use 0-1073741824 bytes, or -1 for the server's default"],
  ];
  test.each(cases)('%s', async (_name, config, message) => {
    const w = running({ ...BASE, max_connections: '200' });
    const before = w.config;
    const out = await run(build(w), event.configChanged(), state(spec, { config, ports: [{ port: 3306, protocol: 'tcp' }] }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message });
    expect(w.calls).toEqual([]);
    expect(w.config).toBe(before);
    expect(out.ports).toEqual([{ port: 3306, protocol: 'tcp' }]);
  });

  test('settings MariaDB will not start with are rolled back and named', async () => {
    const w = running(BASE);
    w.refuse = 'port = 3310';
    const out = await run(build(w), event.configChanged(), state(spec, { config: { port: 3310 } }));
    expect(w.calls).toEqual(['writeConfig', 'restart', 'writeConfig', 'restart']);
    expect(w.config).toBe(renderSettings(BASE));
    expect(w.running).toBe(true);
    expect(out.unitStatus).toEqual({
      name: 'blocked',
      message: "MariaDB did not start with the new port (Can't start server: Bind on TCP/IP port: Address already in use): it runs on the previous settings; fix the config",
    });
  });

  test('update-status keeps showing the problem until the config is fixed', async () => {
    const w = running(BASE);
    const bad = await run(build(w), event.configChanged(), state(spec, { config: { port: 1 } }));
    const later = await run(build(w), event.updateStatus(), bad);
    expect(later.unitStatus).toEqual({ name: 'blocked', message: 'port=1 is out of range: use 1024-65535 (MariaDB does not run as root)' });
    const fixed = await run(build(w), event.configChanged(), state(spec, { stored: later.stored }));
    expect(fixed.unitStatus).toEqual({ name: 'active', message: 'ready on 10.0.0.10:3306 (standalone: the leader serves relations)' });
  });

  test('update-status reports a stopped MariaDB', async () => {
    const w = running(BASE);
    w.running = false;
    const out = await run(build(w), event.updateStatus(), state(spec));
    expect(out.unitStatus?.name).toBe('blocked');
    expect(out.unitStatus?.message).toMatch(/^MariaDB is not running: see `journalctl -u mariadb`/);
  });
});

describe('relations', () => {
  const db = { endpoint: 'db', id: 7, remoteApp: 'wordpress', remoteUnits: { 'wordpress/0': {} } };
  const admin = { endpoint: 'db-admin', id: 8, remoteApp: 'backups', remoteUnits: { 'backups/0': {} } };

  test('the leader gives each application on db a database named after it, a user and the legacy keys', async () => {
    const w = running(BASE);
    const s = state(spec, { leader: true, relations: [db] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'wordpress/0'), s);
    const published = out.relations[0]!.localUnitData;
    expect(Object.keys(published).sort()).toEqual(['database', 'host', 'password', 'port', 'slave', 'user']);
    expect(published).toMatchObject({ host: '10.0.0.10', port: '3306', database: 'wordpress', user: 'wordpress_7', slave: 'False' });
    expect(published.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(w.databases).toEqual(new Set(['wordpress']));
    expect(w.users.get('wordpress_7')).toEqual({ password: published.password, grant: { database: 'wordpress' } });
    expect(out.relations[0]!.localAppData).toEqual({});

    // Re-running (Juju retries hooks) publishes the same credentials.
    const again = await run(build(w), event.relationChanged(out.relations[0]!, 'wordpress/0'), out);
    expect(again.relations[0]!.localUnitData).toEqual(published);
  });

  test('db-admin gives a user with every privilege', async () => {
    const w = running(BASE);
    const s = state(spec, { leader: true, relations: [admin] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'backups/0'), s);
    expect(out.relations[0]!.localUnitData.user).toBe('backups_8');
    expect(w.users.get('backups_8')?.grant).toBe('all');
  });

  test('nothing is published before MariaDB is configured', async () => {
    const w = new FakeMariadb({ running: true });
    const s = state(spec, { leader: true, relations: [db] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'wordpress/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(w.users.size).toBe(0);
  });

  test('other units publish nothing and withdraw what they published as leader', async () => {
    const w = running(BASE);
    const s = state(spec, { unit: 'mariadb/1', leader: false, relations: [{ ...db, localUnitData: { host: '10.0.0.10', user: 'wordpress_7', password: 'x' } }] });
    const out = await run(build(w), event.relationChanged(s.relations[0]!, 'wordpress/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(w.users.size).toBe(0);
    expect(out.unitStatus).toBeUndefined();
  });

  test('removing the relation drops its user, so its credentials stop working', async () => {
    const w = running(BASE);
    const s = state(spec, { leader: true, relations: [db] });
    const joined = await run(build(w), event.relationJoined(s.relations[0]!, 'wordpress/0'), s);
    const gone = state(spec, { leader: true, leaderData: joined.leaderData, relations: [{ ...db, remoteUnits: {} }] });
    const out = await run(build(w), event.relationBroken(gone.relations[0]!), gone);
    expect(w.calls).toEqual(['drop wordpress_7']);
    expect(w.users.size).toBe(0);
    expect(w.databases).toEqual(new Set(['wordpress'])); // The data stays, as in Juju's MySQL charm.
    expect(out.leaderData).toEqual({});
    expect(out.appSecrets).toEqual({ 'client-passwords': { format: '1' } });
  });

  test('the password lives in the application secret; leader data keeps only the user and database', async () => {
    const w = running(BASE);
    const s = state(spec, { leader: true, relations: [db] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'wordpress/0'), s);
    const pw = out.appSecrets['client-passwords']!['relation-7-password']!;
    expect(pw).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(out.leaderData).toEqual({ 'relation-7': '{"user":"wordpress_7","database":"wordpress"}' });
    expect(JSON.stringify(out.leaderData)).not.toContain(pw);
    expect(out.relations[0]!.localUnitData.password).toBe(pw);
  });

  test('a broken relation on a unit that is not the leader changes nothing', async () => {
    const w = running(BASE);
    const s = state(spec, { leader: false, leaderData: { 'relation-7': '{"user":"wordpress_7"}' }, relations: [{ ...db, remoteUnits: {} }] });
    await run(build(w), event.relationBroken(s.relations[0]!), s);
    expect(w.calls).toEqual([]);
  });

  test('a new leader creates the same users on its server and publishes them', async () => {
    const w = running(BASE);
    const saved = { user: 'wordpress_7', password: 'secret', database: 'wordpress' };
    const s = state(spec, { unit: 'mariadb/1', leader: true, leaderData: { 'relation-7': JSON.stringify(saved) }, relations: [db] });
    const out = await run(build(w), event.leaderElected(), s);
    expect(w.users.get('wordpress_7')).toEqual({ password: 'secret', grant: { database: 'wordpress' } });
    expect(out.relations[0]!.localUnitData).toMatchObject({ user: 'wordpress_7', password: 'secret', database: 'wordpress' });
    expect(out.unitStatus).toEqual({ name: 'active', message: 'ready on 10.0.0.10:3306' });
    // Leader data from before secrets: the password moved into the secret.
    expect(out.leaderData).toEqual({ 'relation-7': '{"user":"wordpress_7","database":"wordpress"}' });
    expect(out.appSecrets['client-passwords']).toEqual({ format: '1', 'relation-7-password': 'secret' });
  });

  test('user names fit in 32 characters', () => {
    expect(userName('a-very-long-application-name-for-testing', 123)).toBe('a-very-long-application-name_123');
  });
});

describe('actions', () => {
  test('backup prints the dump path and what it holds', async () => {
    const w = running(BASE);
    w.databases.add('wordpress');
    const out = await run(build(w), event.action('backup'), state(spec));
    expect(out.action).toEqual({ results: { path: '/var/backups/mariadb-20260101-120000.sql', databases: 'wordpress' }, failed: undefined, logs: ['dumped wordpress'] });
  });

  test('a backup with nothing to dump fails the action, not the unit', async () => {
    const out = await run(build(running(BASE)), event.action('backup'), state(spec));
    expect(out.action?.failed).toBe('there is no application database to back up');
  });

  test('restore loads the given dump', async () => {
    const w = running(BASE);
    const out = await run(build(w), event.action('restore', { path: '/var/backups/x.sql' }), state(spec));
    expect(w.calls).toEqual(['restore /var/backups/x.sql']);
    expect(out.action?.results).toEqual({ restored: '/var/backups/x.sql' });
  });
});

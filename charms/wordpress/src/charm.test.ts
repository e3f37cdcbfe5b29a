import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import { SALT_NAMES, type Blog } from './settings.ts';
import type { Workload } from './workload.ts';

/** Records what the charm asks of the machine; the files it writes are kept by content. */
class FakeWorkload implements Workload {
  calls: string[] = [];
  site: string | undefined;
  wpConfig: string | undefined;
  running = false;
  hasMemcachedExtension = false;
  /** What the database holds, as the setup script would find it. */
  installedInDb = false;
  setups: { mode: string; blog: Blog; password: string }[] = [];

  async install() {
    this.calls.push('install');
  }
  async installCacheClient() {
    if (this.hasMemcachedExtension) return false;
    this.calls.push('install php-memcached');
    this.hasMemcachedExtension = true;
    return true;
  }
  async version() {
    return '6.1.9';
  }
  async writeSite(text: string) {
    const changed = text !== this.site;
    this.site = text;
    return changed;
  }
  async writeWpConfig(text: string) {
    const changed = text !== this.wpConfig;
    this.wpConfig = text;
    return changed;
  }
  async apacheRunning() {
    return this.running;
  }
  async startOrReload() {
    this.calls.push(this.running ? 'reload' : 'start');
    this.running = true;
  }
  async stop() {
    this.calls.push('stop');
    this.running = false;
  }
  async setup(mode: 'install' | 'settings', blog: Blog, password: string) {
    this.setups.push({ mode, blog, password });
    if (mode === 'settings') return 'settings applied';
    if (this.installedInDb) return 'already installed';
    this.installedInDb = true;
    return `installed; administrator ${blog.adminUser}`;
  }
}

const mariadb = { host: '10.0.0.3', port: '3306', database: 'wordpress', user: 'wordpress_7', password: 's3cret', slave: 'False' };
const dbRelation = (unitData: Record<string, string> = mariadb) => ({ endpoint: 'db', id: 7, remoteApp: 'mariadb', remoteUnits: { 'mariadb/0': unitData } });
const saltValues = Object.fromEntries(SALT_NAMES.map((n) => [n, `${n.toLowerCase()}-value`]));
/** The application's secret as the leader writes it: salts under Juju-style keys, and the administrator's password. */
const shared = { ...Object.fromEntries(SALT_NAMES.map((n) => [n.toLowerCase().replaceAll('_', '-'), saltValues[n]!])), 'admin-password': 'pw' };
const appSecrets = { 'wordpress-secrets': shared };
const installedLeaderData = { 'secrets-version': '1', installed: 'wordpress_7@mariadb/0/wordpress', 'admin-user': 'admin' };

describe('until the database is there', () => {
  test('without a db relation the unit is blocked, Apache serves nothing of WordPress, and website says nothing', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, relations: [{ endpoint: 'website', remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } }] });
    const out = await run(build(w), event.install(), s);
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'needs a MySQL database: sigil integrate wordpress mariadb' });
    expect(w.calls).toEqual(['install', 'start']);
    expect(w.wpConfig).toBeUndefined();
    expect(out.ports).toEqual([{ port: 80, protocol: 'tcp' }]);
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(out.workloadVersion).toBe('6.1.9');
  });

  test('a db relation whose provider has not published yet: waiting, naming the provider', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, relations: [dbRelation({})] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'mariadb/0'), s);
    expect(out.unitStatus).toEqual({ name: 'waiting', message: 'waiting for mariadb to publish database credentials' });
    expect(w.setups).toEqual([]);
  });

  test('the leader generates the keys and the administrator password once, into an application secret (not leader data)', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.leaderElected(), state(spec, { leader: true }));
    const secret = out.appSecrets['wordpress-secrets']!;
    expect(Object.keys(secret).sort()).toEqual([...SALT_NAMES.map((n) => n.toLowerCase().replaceAll('_', '-')), 'admin-password'].sort());
    expect(new Set(SALT_NAMES.map((n) => secret[n.toLowerCase().replaceAll('_', '-')])).size).toBe(8);
    expect(secret['admin-password']).toMatch(/^[A-Za-z0-9_-]{20}$/);
    // Leader data only tells the other units there is something to read, and its id.
    expect(out.leaderData).toEqual({ 'secrets-version': '1', 'secrets-id': expect.stringMatching(/^[0-9a-f]{20}$/) as string });
    const again = await run(build(w), event.configChanged(), out);
    expect(again.appSecrets).toEqual(out.appSecrets);
    expect(again.leaderData).toEqual(out.leaderData);
  });

  test('the leader moves keys from leader data (charms before secrets) into the secret and deletes them', async () => {
    const w = new FakeWorkload();
    const legacy = { salts: JSON.stringify(saltValues), 'admin-password': 'old-pw', installed: 'x' };
    const out = await run(build(w), event.upgradeCharm(), state(spec, { leader: true, leaderData: legacy }));
    expect(out.appSecrets['wordpress-secrets']).toEqual({ ...shared, 'admin-password': 'old-pw' });
    expect(out.leaderData).toEqual({ installed: 'x', 'secrets-version': '1', 'secrets-id': expect.stringMatching(/^[0-9a-f]{20}$/) as string });
  });

  test('a non-leader waits for the secret; its configuration uses the shared salts', async () => {
    const w = new FakeWorkload();
    const waiting = await run(build(w), event.configChanged(), state(spec, { unit: 'wordpress/1', relations: [dbRelation()] }));
    expect(waiting.unitStatus).toEqual({ name: 'waiting', message: 'waiting for the leader to generate the keys and salts' });
    expect(w.wpConfig).toBeUndefined();
    await run(build(w), event.leaderSettingsChanged(), state(spec, { unit: 'wordpress/1', appSecrets, leaderData: installedLeaderData, relations: [dbRelation()] }));
    expect(w.wpConfig).toContain("define('AUTH_KEY', 'auth_key-value');");
  });

  test('a non-leader waits for the leader to install before it publishes itself', async () => {
    const w = new FakeWorkload();
    const s = state(spec, {
      unit: 'wordpress/1',
      appSecrets,
      leaderData: { 'secrets-version': '1' },
      relations: [dbRelation(), { endpoint: 'website', remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } }],
    });
    const out = await run(build(w), event.relationChanged(s.relations[0]!, 'mariadb/0'), s);
    expect(out.unitStatus).toEqual({ name: 'waiting', message: 'waiting for the leader to install WordPress into wordpress' });
    expect(w.setups).toEqual([]);
    expect(out.relations[1]!.localUnitData).toEqual({});
    // Its configuration is ready, so it serves the moment the leader is done.
    expect(w.wpConfig).toContain("define('DB_PASSWORD', 's3cret');");
  });
});

describe('with the database', () => {
  test('the leader installs once, applies the settings, publishes hostname and port 80', async () => {
    const w = new FakeWorkload();
    const s = state(spec, {
      leader: true,
      config: { 'blog-title': 'Field Notes' },
      relations: [dbRelation(), { endpoint: 'website', remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } }],
    });
    const out = await run(build(w), event.relationChanged(s.relations[0]!, 'mariadb/0'), s);
    expect(w.setups.map((x) => x.mode)).toEqual(['install', 'settings']);
    expect(w.setups[0]!.blog).toEqual({ title: 'Field Notes', tagline: 'Just another WordPress site', adminUser: 'admin', adminEmail: 'admin@example.com', public: true });
    expect(w.setups[0]!.password).toBe(out.appSecrets['wordpress-secrets']!['admin-password']);
    expect(out.leaderData.installed).toBe('wordpress_7@mariadb/0/wordpress');
    expect(out.relations[1]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '80' });
    expect(out.unitStatus).toEqual({ name: 'active', message: 'serving "Field Notes" on port 80: database wordpress on 10.0.0.3' });
    expect(w.wpConfig).toContain("define('DB_HOST', '10.0.0.3:3306');");

    // Nothing changed: no setup script, no file, no reload.
    const calls = w.calls.length;
    const again = await run(build(w), event.updateStatus(), out);
    expect(w.setups.length).toBe(2);
    expect(w.calls.length).toBe(calls);
    expect(again.unitStatus).toEqual(out.unitStatus);
  });

  test('a new leader does not install again', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, appSecrets, leaderData: { ...installedLeaderData, 'blog-settings': '' }, relations: [dbRelation()] });
    await run(build(w), event.leaderElected(), s);
    expect(w.setups.map((x) => x.mode)).toEqual(['settings']);
  });

  test('a non-leader serves once the leader recorded the install, with the same config as the leader', async () => {
    const leader = new FakeWorkload();
    const other = new FakeWorkload();
    const relations = [dbRelation(), { endpoint: 'cache', id: 9, remoteApp: 'memcached', remoteUnits: { 'memcached/0': { host: '10.0.0.4', port: '11211', 'udp-port': '0' } } }];
    const l = await run(build(leader), event.leaderElected(), state(spec, { leader: true, relations }));
    const o = await run(build(other), event.leaderSettingsChanged(), state(spec, { unit: 'wordpress/1', leaderData: l.leaderData, appSecrets: l.appSecrets, relations }));
    expect(o.unitStatus?.name).toBe('active');
    expect(other.setups).toEqual([]);
    expect(other.wpConfig).toBe(leader.wpConfig);
    expect(other.site).toContain('Header always set X-Sigil-Unit "wordpress/1"');
  });

  test('the database reached through a proxy (sigil chaos) is the same database: no install, every unit stays published, only DB_HOST changes', async () => {
    const website = { endpoint: 'website', remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } };
    const leader = new FakeWorkload();
    const other = new FakeWorkload();
    const l = await run(build(leader), event.leaderElected(), state(spec, { leader: true, relations: [dbRelation(), website] }));
    const o = await run(build(other), event.leaderSettingsChanged(), state(spec, { unit: 'wordpress/1', leaderData: l.leaderData, appSecrets: l.appSecrets, relations: [dbRelation(), website] }));
    expect(o.relations[1]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '80' });
    const setups = leader.setups.length;
    const before = other.wpConfig!;
    // What the consumer sees under chaos: the provider's address and port swapped for the proxy's.
    const proxied = { 'mariadb/0': { ...mariadb, host: '10.0.0.1', port: '40123', 'private-address': '10.0.0.1' } };
    const viaProxy = <S extends typeof l>(x: S): S => ({ ...x, relations: [{ ...x.relations[0]!, remoteUnits: proxied }, x.relations[1]!] });
    const l2 = await run(build(leader), event.relationChanged(viaProxy(l).relations[0]!, 'mariadb/0'), viaProxy(l));
    const o2 = await run(build(other), event.relationChanged(viaProxy(o).relations[0]!, 'mariadb/0'), viaProxy(o));
    expect(leader.setups.length).toBe(setups);
    expect(l2.leaderData).toEqual(l.leaderData);
    expect(o2.unitStatus).toEqual({ name: 'active', message: 'serving "My Sigil Blog" on port 80: database wordpress on 10.0.0.1' });
    expect(o2.relations[1]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '80' });
    expect(other.wpConfig!.split('\n').filter((line) => !before.includes(line))).toEqual(["define('DB_HOST', '10.0.0.1:40123');"]);
  });

  test('a site recorded by address (earlier revisions) is not installed again: the leader records it by unit, the others keep serving', async () => {
    const byAddress = { ...installedLeaderData, installed: 'wordpress_7@10.0.0.3:3306/wordpress' };
    const other = new FakeWorkload();
    const o = await run(build(other), event.upgradeCharm(), state(spec, { unit: 'wordpress/1', appSecrets, leaderData: byAddress, relations: [dbRelation()] }));
    expect(o.unitStatus?.name).toBe('active');
    const w = new FakeWorkload();
    const out = await run(build(w), event.upgradeCharm(), state(spec, { leader: true, appSecrets, leaderData: byAddress, relations: [dbRelation()] }));
    expect(w.setups.map((x) => x.mode)).toEqual(['settings']);
    expect(out.leaderData.installed).toBe('wordpress_7@mariadb/0/wordpress');
  });

  test('a database served by another unit is another database: the leader installs into it', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, appSecrets, leaderData: installedLeaderData, relations: [{ endpoint: 'db', id: 7, remoteApp: 'mariadb', remoteUnits: { 'mariadb/1': { ...mariadb, host: '10.0.0.8' } } }] });
    const out = await run(build(w), event.relationChanged(s.relations[0]!, 'mariadb/1'), s);
    expect(w.setups.map((x) => x.mode)).toEqual(['install', 'settings']);
    expect(out.leaderData.installed).toBe('wordpress_7@mariadb/1/wordpress');
  });

  test('blog settings go to the database through the leader, with no Apache reload', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, relations: [dbRelation()] });
    const first = await run(build(w), event.configChanged(), s);
    const calls = w.calls.length;
    const out = await run(build(w), event.configChanged(), { ...first, config: { ...first.config, 'blog-title': 'New Title', 'admin-email': 'me@example.org', 'blog-public': false } });
    expect(w.setups.at(-1)).toMatchObject({ mode: 'settings', blog: { title: 'New Title', adminEmail: 'me@example.org', public: false, adminUser: 'admin' } });
    expect(w.calls.length).toBe(calls);
    expect(out.unitStatus?.message).toContain('"New Title"');
  });

  test('upload-max-size changes the site and reloads Apache gracefully, never restarts it', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, appSecrets, leaderData: installedLeaderData, relations: [dbRelation()] });
    const first = await run(build(w), event.configChanged(), s);
    await run(build(w), event.configChanged(), { ...first, config: { ...first.config, 'upload-max-size': '64m' } });
    expect(w.calls).toEqual(['start', 'reload']);
    expect(w.site).toContain('php_admin_value upload_max_filesize 64M');
  });

  test('relating memcached installs php-memcached, reloads Apache and names the servers in the config', async () => {
    const w = new FakeWorkload();
    const base = state(spec, { leader: true, appSecrets, leaderData: installedLeaderData, relations: [dbRelation()] });
    const first = await run(build(w), event.configChanged(), base);
    const cache = { endpoint: 'cache', id: 9, remoteApp: 'memcached', remoteUnits: { 'memcached/1': { host: '10.0.0.6', port: '11211' }, 'memcached/0': { host: '10.0.0.5', port: '11211' } } };
    const s = state(spec, { ...first, relations: [...first.relations, cache] });
    const out = await run(build(w), event.relationChanged(s.relations[1]!, 'memcached/0'), s);
    expect(w.calls).toEqual(['start', 'install php-memcached', 'reload']);
    expect(w.wpConfig).toContain("define('SIGIL_MEMCACHED_SERVERS', '10.0.0.5:11211,10.0.0.6:11211');");
    expect(out.unitStatus?.message).toMatch(/object cache on 2 memcached$/);
  });

  test('losing the database withdraws the unit from website; the last config stays for requests still on their way', async () => {
    const w = new FakeWorkload();
    w.wpConfig = 'last good';
    const website = { endpoint: 'website', remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} }, localUnitData: { hostname: '10.0.0.10', port: '80' } };
    // Juju still lists the relation during its -broken hook, with no units.
    const s = state(spec, { leader: true, appSecrets, leaderData: installedLeaderData, relations: [website, { ...dbRelation(), remoteUnits: {} }] });
    const out = await run(build(w), event.relationBroken(s.relations[1]!), s);
    expect(out.unitStatus?.name).toBe('blocked');
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(w.wpConfig).toBe('last good');
  });
});

describe('config refused', () => {
  test.each([
    ['admin-email', 'not-an-address', /admin-email="not-an-address" is not an e-mail address/],
    ['admin-user', ' admin', /admin-user=" admin" is not a WordPress login/],
    ['upload-max-size', '2T', /upload-max-size="2T" is not a size from 1K to 1G/],
    ['blog-title', '  ', /blog-title="  " is empty/],
  ])('%s=%s blocks and writes nothing', async (option, value, message) => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { [option]: value }, relations: [dbRelation()] }));
    expect(out.unitStatus?.name).toBe('blocked');
    expect(out.unitStatus?.message).toMatch(message);
    expect(w.site).toBeUndefined();
    expect(w.wpConfig).toBeUndefined();
    expect(w.setups).toEqual([]);
  });

  test('admin-user changed after install: blocked with the installed login, still serving', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, config: { 'admin-user': 'bob' }, appSecrets, leaderData: installedLeaderData, relations: [dbRelation()] });
    const out = await run(build(w), event.configChanged(), s);
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'admin-user="bob" cannot change after install: the administrator is "admin"; set it back (add users in WordPress)' });
    expect(w.running).toBe(true);
    expect(w.setups.at(-1)?.blog.adminUser).toBe('admin');
  });
});

describe('actions and stop', () => {
  test('get-admin-password gives the login and the secret holding the generated password; fails clearly before there is one', async () => {
    const ok = await run(build(new FakeWorkload()), event.action('get-admin-password'), state(spec, { unit: 'wordpress/2', appSecrets, leaderData: installedLeaderData }));
    // The password stays in the secret: the action names it and the command that reveals it.
    const id = ok.action?.results['password-secret'];
    expect(id).toMatch(/^[0-9a-f]{20}$/);
    expect(ok.action?.results).toEqual({ user: 'admin', 'password-secret': id, reveal: `sigil show-secret ${id} --reveal` });
    expect(JSON.stringify(ok.action?.results)).not.toContain('pw"');
    const early = await run(build(new FakeWorkload()), event.action('get-admin-password'), state(spec));
    expect(early.action?.failed).toMatch(/no administrator password yet/);
  });

  test('stop stops Apache gracefully and does not start it again', async () => {
    const w = new FakeWorkload();
    w.running = true;
    await run(build(w), event.stop(), state(spec, { leader: true, appSecrets, leaderData: installedLeaderData, relations: [dbRelation()] }));
    expect(w.calls).toEqual(['stop']);
  });
});

import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import { FakeWorkload } from './fake-workload.ts';
import { hba } from './clients.ts';
import { parse, render, settingsFor } from './settings.ts';

const ADDR = '10.0.0.10';
const DEFAULTS = { port: 5432, max_connections: 100, shared_buffers: '128MB', work_mem: '4MB', maintenance_work_mem: '64MB', effective_cache_size: '4GB' };
/** The settings file as the charm leaves it with the default config. */
const APPLIED = render(settingsFor(DEFAULTS, ADDR));
/** A machine after install and the first config-changed: default settings, local-only pg_hba.conf. */
const installed = (running = true) => new FakeWorkload({ running, settings: APPLIED, hbaText: hba([]) });
const client = (units: Record<string, Record<string, string>> = { 'app/0': { 'private-address': '10.0.0.20', 'ingress-address': '10.0.0.20', 'egress-subnets': '10.0.0.20/32' } }) => ({
  id: 7,
  endpoint: 'db',
  remoteApp: 'app',
  remoteUnits: units,
});

describe('install and start', () => {
  test('install puts the package in, admits only local connections and records the version', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.install(), state(spec));
    expect(w.actions).toEqual(['install', 'writeHba', 'reload']);
    expect(w.hbaText).toContain('local   all       postgres          peer  map=sigil');
    expect(w.hbaText).not.toMatch(/^host .*scram/m);
    expect(out.workloadVersion).toBe('15.10');
  });

  test('start starts a stopped server and reports where it listens', async () => {
    const w = installed(false);
    const out = await run(build(w), event.start(), state(spec));
    expect(w.actions).toEqual(['start']);
    expect(out.unitStatus).toEqual({ name: 'active', message: `PostgreSQL 15 on ${ADDR}:5432` });
  });

  test('stop stops the server', async () => {
    const w = installed();
    await run(build(w), event.stop(), state(spec));
    expect(w.actions).toEqual(['stop']);
  });
});

describe('config', () => {
  test('the first config-changed writes the settings and restarts (listen address and port), opening the port', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec));
    expect(w.actions).toEqual(['writeSettings', 'restart', 'writeHba', 'reload']);
    expect(parse(w.settings)).toMatchObject({ listen_addresses: `localhost,${ADDR}`, port: '5432', work_mem: '4MB' });
    expect(out.ports).toEqual([{ port: 5432, protocol: 'tcp' }]);
    expect(out.unitStatus?.name).toBe('active');
  });

  test('work_mem, maintenance_work_mem and effective_cache_size are applied with a reload, no restart', async () => {
    const w = installed();
    const out = await run(build(w), event.configChanged(), state(spec, { config: { work_mem: '16MB', effective_cache_size: '2GB', maintenance_work_mem: '128MB' } }));
    expect(w.actions).toEqual(['writeSettings', 'reload']);
    expect(w.calls).toContain('checkSetting work_mem=16MB');
    expect(parse(w.settings)).toMatchObject({ work_mem: '16MB', effective_cache_size: '2GB', maintenance_work_mem: '128MB' });
    expect(out.logs.map((l) => l.message)).toContain('reloaded PostgreSQL for effective_cache_size, maintenance_work_mem, work_mem');
  });

  test('shared_buffers, max_connections and port need a restart; the new port is opened and published', async () => {
    const w = installed();
    const s = state(spec, { leader: true, config: { port: 6543, max_connections: 50, shared_buffers: '256MB' }, ports: [{ port: 5432, protocol: 'tcp' }], relations: [client()] });
    const out = await run(build(w), event.configChanged(), s);
    expect(w.actions).toEqual(['writeSettings', 'restart', 'ensureClient juju_app app', 'writeHba', 'reload']);
    expect(out.ports).toEqual([{ port: 6543, protocol: 'tcp' }]);
    expect(out.relations[0]!.localUnitData.port).toBe('6543');
    expect(out.unitStatus).toEqual({ name: 'active', message: `PostgreSQL 15 on ${ADDR}:6543` });
  });

  test('an unchanged config touches nothing', async () => {
    const w = installed();
    await run(build(w), event.configChanged(), state(spec));
    expect(w.actions).toEqual([]);
  });

  test.each([
    [{ work_mem: 'lots' }, 'work_mem=lots is not a memory size: use a whole number with kB, MB, GB or TB (e.g. 64MB)'],
    [{ port: 80 }, 'port=80 is out of range: use 1024-65535 (PostgreSQL does not run as root)'],
    [{ max_connections: 3 }, 'max_connections=3 is out of range: use 10-262143'],
  ])('a bad value (%o) blocks naming the option and leaves the server alone', async (config, message) => {
    const w = installed();
    const out = await run(build(w), event.configChanged(), state(spec, { config, ports: [{ port: 5432, protocol: 'tcp' }] }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message });
    expect(w.actions).toEqual([]);
    expect(w.settings).toBe(APPLIED);
    expect(out.ports).toEqual([{ port: 5432, protocol: 'tcp' }]);
  });

  test("a value PostgreSQL itself rejects blocks with PostgreSQL's reason", async () => {
    const w = installed();
    w.rejects.set('work_mem=1kB', 'invalid value for parameter "work_mem": "1kB" 1 kB is outside the valid range for parameter "work_mem" (64 .. 2147483647)');
    const out = await run(build(w), event.configChanged(), state(spec, { config: { work_mem: '1kB' } }));
    expect(out.unitStatus?.name).toBe('blocked');
    expect(out.unitStatus?.message).toMatch(/^work_mem=1kB is rejected by PostgreSQL: .*outside the valid range/);
    expect(w.actions).toEqual([]);
    expect(out.stored['config-error']).toBe(out.unitStatus?.message);
  });

  test('a restart that fails puts the previous settings back, restarts on them and blocks', async () => {
    const w = installed();
    w.failsToStart = (s) => (s.shared_buffers === '100GB' ? 'FATAL: could not map anonymous shared memory: Cannot allocate memory' : undefined);
    const out = await run(build(w), event.configChanged(), state(spec, { config: { shared_buffers: '100GB' } }));
    expect(w.actions).toEqual(['writeSettings', 'restart', 'writeSettings', 'restart']);
    expect(w.settings).toBe(APPLIED);
    expect(w.running).toBe(true);
    expect(out.unitStatus).toEqual({
      name: 'blocked',
      message: 'shared_buffers=100GB stopped PostgreSQL from starting (FATAL: could not map anonymous shared memory: Cannot allocate memory); it runs on its previous settings (shared_buffers=128MB)',
    });
  });

  test('blocked stays through other hooks until the config is fixed', async () => {
    const w = installed();
    const bad = await run(build(w), event.configChanged(), state(spec, { config: { work_mem: 'lots' } }));
    const later = await run(build(w), event.updateStatus(), bad);
    expect(later.unitStatus?.name).toBe('blocked');
    const fixed = await run(build(w), event.configChanged(), { ...later, config: { ...later.config, work_mem: '8MB' } });
    expect(fixed.unitStatus?.name).toBe('active');
    expect(parse(w.settings).work_mem).toBe('8MB');
  });

  test('update-status reports a server that is not running', async () => {
    const w = installed(false);
    const out = await run(build(w), event.updateStatus(), state(spec));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'PostgreSQL is not running: see journalctl -u postgresql@15-main' });
  });
});

describe('db relation', () => {
  const joined = async (w: FakeWorkload, opts: { leader?: boolean } = {}, rel = client()) => {
    const s = state(spec, { leader: opts.leader ?? true, relations: [rel] });
    return run(build(w), event.relationJoined(s.relations[0]!, Object.keys(rel.remoteUnits)[0]!), s);
  };

  test('the leader creates a role and database for the application and publishes the legacy keys', async () => {
    const w = installed();
    const out = await joined(w);
    // The password is in the application's Juju secret, not in leader data (only a version is).
    const pw = out.appSecrets['client-passwords']![`pw-${Buffer.from('juju_app').toString('hex')}`]!;
    expect(pw).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(out.leaderData).toEqual({ 'passwords-version': '1' });
    expect(w.roles.get('juju_app')).toEqual({ login: true, password: pw, superuser: false, memberOf: [] });
    expect(out.relations[0]!.localUnitData).toEqual({
      host: ADDR,
      port: '5432',
      database: 'app',
      user: 'juju_app',
      password: pw,
      schema_user: 'juju_app',
      schema_password: pw,
      'allowed-units': 'app/0',
      state: 'standalone',
      version: '15',
      master: `dbname=app host=${ADDR} password=${pw} port=5432 user=juju_app`,
    });
    expect(w.hbaText).toContain('host    "app"  "juju_app"  10.0.0.20/32  scram-sha-256  # app/0 (db:7)');
    expect(w.hbaText.trimEnd().split('\n').at(-1)).toBe('host    all       all   all         reject');
    expect(w.actions).toEqual(['ensureClient juju_app app', 'writeHba', 'reload']);
    expect(out.unitStatus?.name).toBe('active');
  });

  test('a second hook keeps the password and changes nothing on the server but the idempotent ensure', async () => {
    const w = installed();
    const first = await joined(w);
    w.calls = [];
    const second = await run(build(w), event.relationChanged(first.relations[0]!, 'app/0'), first);
    expect(second.leaderData).toEqual(first.leaderData);
    expect(second.appSecrets).toEqual(first.appSecrets);
    expect(second.relations[0]!.localUnitData).toEqual(first.relations[0]!.localUnitData);
    expect(w.actions).toEqual(['ensureClient juju_app app']);
  });

  test('the database, roles and extensions a client asks for in its unit bag are honoured and reflected', async () => {
    const w = installed();
    const rel = client({ 'app/0': { 'private-address': '10.0.0.20', database: 'shop', roles: 'reporting,readers', extensions: 'citext,hstore:extras' } });
    const out = await joined(w, {}, rel);
    const data = out.relations[0]!.localUnitData;
    expect(data).toMatchObject({ database: 'shop', roles: 'reporting,readers', extensions: 'citext,hstore:extras' });
    expect(w.roles.get('juju_app')!.memberOf).toEqual(['reporting', 'readers']);
    expect(w.databases.get('shop')).toEqual({ extensions: ['citext', 'hstore'] });
    expect(w.hbaText).toContain('host    "shop"  "juju_app"  10.0.0.20/32');
  });

  test('an extension PostgreSQL does not have blocks and publishes nothing', async () => {
    const w = installed();
    const out = await joined(w, {}, client({ 'app/0': { 'private-address': '10.0.0.20', extensions: 'postgis' } }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'app asked for extensions postgis, which PostgreSQL 15 here does not have' });
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(w.actions.filter((a) => a.startsWith('ensureClient'))).toEqual([]);
  });

  test('a reserved role request blocks', async () => {
    const w = installed();
    const out = await joined(w, {}, client({ 'app/0': { 'private-address': '10.0.0.20', roles: 'pg_read_server_files' } }));
    expect(out.unitStatus?.message).toBe('app asked for role "pg_read_server_files": roles named pg_*, juju_*, jujuadmin_* or postgres are reserved');
  });

  test('db-admin gets a superuser role, no schema_user, and pg_hba access to every database', async () => {
    const w = installed();
    const out = await joined(w, {}, { ...client(), endpoint: 'db-admin' });
    expect(w.roles.get('jujuadmin_app')?.superuser).toBe(true);
    const data = out.relations[0]!.localUnitData;
    expect(data.user).toBe('jujuadmin_app');
    expect(data.schema_user).toBeUndefined();
    expect(w.hbaText).toContain('host    all  all  10.0.0.20/32  scram-sha-256  # app/0 (db-admin:7)');
  });

  test('a non-leader waits for the password in the application secret, then serves the same credentials', async () => {
    const w = installed();
    const waiting = await joined(w, { leader: false });
    expect(waiting.relations[0]!.localUnitData).toEqual({});
    expect(w.actions).toEqual([]);
    const key = `pw-${Buffer.from('juju_app').toString('hex')}`;
    const served = await run(build(w), event.leaderSettingsChanged(), { ...waiting, leaderData: { 'passwords-version': '1' }, appSecrets: { 'client-passwords': { format: '1', [key]: 'from-the-leader' } } });
    expect(served.relations[0]!.localUnitData).toMatchObject({ user: 'juju_app', password: 'from-the-leader' });
  });

  test('passwords kept in leader data by older revisions move into the secret and leave leader data', async () => {
    const w = installed();
    const s = state(spec, { leader: true, relations: [client()], leaderData: { 'password.juju_app': 'kept-from-before' } });
    const out = await run(build(w), event.relationChanged(s.relations[0]!, 'app/0'), s);
    expect(out.leaderData).toEqual({ 'passwords-version': '1' });
    expect(out.appSecrets['client-passwords']).toEqual({ format: '1', [`pw-${Buffer.from('juju_app').toString('hex')}`]: 'kept-from-before' });
    expect(out.relations[0]!.localUnitData.password).toBe('kept-from-before');
  });

  test('a unit without an address is neither admitted nor listed in allowed-units', async () => {
    const w = installed();
    const out = await joined(w, {}, client({ 'app/0': { 'private-address': '10.0.0.20' }, 'app/1': {} }));
    expect(out.relations[0]!.localUnitData['allowed-units']).toBe('app/0');
    expect(w.hbaText).not.toContain('app/1');
  });

  test('a departed unit loses its pg_hba rule and its place in allowed-units', async () => {
    const w = installed();
    const two = await joined(w, {}, client({ 'app/0': { 'private-address': '10.0.0.20' }, 'app/1': { 'private-address': '10.0.0.21' } }));
    expect(two.relations[0]!.localUnitData['allowed-units']).toBe('app/0 app/1');
    const rel = { ...two.relations[0]!, remoteUnits: { 'app/0': { 'private-address': '10.0.0.20' } } };
    const out = await run(build(w), event.relationDeparted(rel, 'app/1'), { ...two, relations: [rel] });
    expect(out.relations[0]!.localUnitData['allowed-units']).toBe('app/0');
    expect(w.hbaText).not.toContain('10.0.0.21');
  });

  test('relation-broken revokes the role (sessions ended), closes pg_hba and forgets the password', async () => {
    const w = installed();
    const live = await joined(w);
    w.calls = [];
    const gone = { ...live.relations[0]!, remoteUnits: {} };
    const out = await run(build(w), event.relationBroken(gone), { ...live, relations: [gone] });
    expect(w.actions).toEqual(['writeHba', 'reload', 'revoke juju_app']);
    expect(w.roles.get('juju_app')).toMatchObject({ login: false, password: undefined });
    expect(w.hbaText).not.toMatch(/juju_app/);
    expect(out.leaderData).toEqual({ 'passwords-version': '2' });
    expect(out.appSecrets['client-passwords']).toEqual({ format: '1' });
    expect(out.unitStatus?.name).toBe('active');
  });

  test('client roles left over from a relation this unit missed are revoked by any converging hook', async () => {
    const w = installed();
    w.roles.set('juju_old', { login: true, password: 'x', superuser: false, memberOf: [] });
    w.roles.set('someone', { login: true, password: 'y', superuser: false, memberOf: [] });
    await run(build(w), event.leaderElected(), state(spec, { leader: true }));
    expect(w.actions).toContain('revoke juju_old');
    expect(w.roles.get('someone')?.login).toBe(true);
  });

  test('nothing is set up while PostgreSQL is stopped', async () => {
    const w = installed(false);
    const out = await joined(w);
    expect(w.actions).toEqual([]);
    expect(out.relations[0]!.localUnitData).toEqual({});
    expect(out.unitStatus?.name).toBe('blocked');
  });
});

describe('actions', () => {
  test('backup of one database prints its path', async () => {
    const w = installed();
    w.databases.set('shop', { extensions: [] });
    const out = await run(build(w), event.action('backup', { database: 'shop' }), state(spec));
    expect(out.action).toEqual({ results: { path: '/var/backups/postgresql/shop-20250101T000000Z.dump', databases: 'shop' }, failed: undefined, logs: [] });
  });

  test('backup of every database prints the directory', async () => {
    const w = installed();
    w.databases.set('b', { extensions: [] }).set('a', { extensions: [] });
    const out = await run(build(w), event.action('backup'), state(spec));
    expect(out.action?.results).toEqual({ path: '/var/backups/postgresql/all-20250101T000000Z', databases: 'a,b' });
  });

  test('backup of a missing database fails the action, not the unit', async () => {
    const w = installed();
    const out = await run(build(w), event.action('backup', { database: 'nope' }), state(spec));
    expect(out.action?.failed).toBe('database "nope" does not exist');
    expect(out.unitStatus).toBeUndefined();
  });

  test('restore reports the databases it recreated, and fails clearly for a missing path', async () => {
    const w = installed();
    const ok = await run(build(w), event.action('restore', { path: '/var/backups/postgresql/shop.dump' }), state(spec));
    expect(ok.action?.results).toEqual({ databases: 'shop' });
    const missing = await run(build(w), event.action('restore', { path: '/tmp/nothing' }), state(spec));
    expect(missing.action?.failed).toBe('/tmp/nothing does not exist on this unit; copy the dump here first (sigil scp)');
  });
});

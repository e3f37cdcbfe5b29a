import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { MIGRATED, SECRET_KEY, build } from './charm.ts';
import { FakeWorkload } from './fake-workload.ts';
import { SourceError } from './workload.ts';

const RELEASE = 'dir-aaaaaaaaaaaa';
const KEY = `${RELEASE}@10.0.0.5:5432/django`;
const granted = (allowed = 'django/0 django/1') => ({
  host: '10.0.0.5',
  port: '5432',
  database: 'django',
  user: 'juju_django',
  password: 'pw',
  'allowed-units': allowed,
  state: 'standalone',
});
const db = (bag: Record<string, string> = granted()) => ({ endpoint: 'db', id: 1, remoteApp: 'postgresql', remoteUnits: { 'postgresql/0': bag } });
const cache = { endpoint: 'cache', id: 2, remoteApp: 'memcached', remoteUnits: { 'memcached/0': { host: '10.0.0.7', port: '11211', 'udp-port': '0' } } };
const website = { endpoint: 'website', id: 3, remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } };
/** A leader that already generated its key and migrated the demo release. */
const ready = { [SECRET_KEY]: 's3cret', [MIGRATED]: KEY };
const serving = (w: FakeWorkload) => expect(w.isRunning).toBe(true);

describe('install and a unit without a database', () => {
  test('install puts Django in place, reports its version and builds the release at once', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.install(), state(spec));
    expect(w.actions).toEqual(['install', 'prepare app', `build ${RELEASE} conference.settings`]);
    expect(out.workloadVersion).toBe('3.2.25');
  });

  test('config-changed prepares and builds the demo shipped in the charm, opens the port, and asks for a database', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true }));
    expect(w.actions).toEqual(['prepare app', `build ${RELEASE} conference.settings`]);
    expect(out.ports).toEqual([{ port: 8000, protocol: 'tcp' }]);
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'needs a PostgreSQL database: sigil integrate django postgresql' });
    expect(out.leaderData[SECRET_KEY]).toMatch(/^[\w-]{50}$/);
    expect(out.stored).toMatchObject({ release: RELEASE, 'manage-settings-module': 'conference.settings' });
  });

  test('an unchanged source is not prepared again on relation hooks', async () => {
    const w = new FakeWorkload();
    const first = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [website] }));
    w.calls = [];
    await run(build(w), event.relationChanged(first.relations[0]!, 'haproxy/0'), first);
    expect(w.actions).toEqual([`build ${RELEASE} conference.settings`]);
  });
});

describe('the database, migrations and serving', () => {
  test('joining db asks for a database named after the application and waits for the grant', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { leader: true, relations: [db({})] });
    const out = await run(build(w), event.relationJoined(s.relations[0]!, 'postgresql/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({ database: 'django' });
    expect(out.unitStatus).toEqual({ name: 'waiting', message: 'waiting for postgresql to grant database django' });
    expect(w.actions).not.toContain('start');
  });

  test('credentials granted to other units only are not used', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db(granted('django/1'))] }));
    expect(out.unitStatus?.name).toBe('waiting');
    expect(w.actions).not.toContain('migrate');
  });

  test('the leader writes the settings, migrates once, records it in leader data, then starts gunicorn', async () => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db()] }));
    expect(w.actions).toEqual(['prepare app', `build ${RELEASE} conference.settings`, 'writeSettings', 'migrate', 'writeService', 'start']);
    expect(out.leaderData[MIGRATED]).toBe(KEY);
    expect(out.unitStatus).toEqual({ name: 'active', message: `serving ${RELEASE} on port 8000 with local-memory cache` });
    expect(w.written).toMatchObject({
      project_dir: `/srv/django/releases/${RELEASE}`,
      settings_module: 'conference.settings',
      debug: false,
      secret_key: out.leaderData[SECRET_KEY],
      allowed_hosts: ['*'],
      database: { ENGINE: 'django.db.backends.postgresql', NAME: 'django', USER: 'juju_django', PASSWORD: 'pw', HOST: '10.0.0.5', PORT: '5432' },
      cache: { BACKEND: 'django.core.cache.backends.locmem.LocMemCache' },
      static_root: `/srv/django/static/${RELEASE}`,
    });
    expect(w.service).toContain('--bind 0.0.0.0:8000 --workers 2');
  });

  test('gunicorn that does not answer on its port after a start blocks with where to look', async () => {
    const w = new FakeWorkload();
    w.binds = false;
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db()], leaderData: ready }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'gunicorn does not answer on port 8000: see journalctl -u django on django/0' });
  });

  test('a leader whose release and database were migrated does not migrate again, and a rerun changes nothing', async () => {
    const w = new FakeWorkload();
    const first = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db()], leaderData: ready }));
    expect(w.actions).not.toContain('migrate');
    serving(w);
    w.calls = [];
    const again = await run(build(w), event.updateStatus(), first);
    expect(w.actions).toEqual([`build ${RELEASE} conference.settings`]);
    expect(again.unitStatus?.name).toBe('active');
  });

  test('a failed migration fails the hook (retried) and is not recorded', async () => {
    const w = new FakeWorkload();
    w.migrateFails = true;
    const s = state(spec, { leader: true, relations: [db()] });
    await expect(run(build(w), event.configChanged(), s)).rejects.toThrow(/migrations for dir-aaaaaaaaaaaa failed \(the hook is retried\): could not connect/);
    expect(w.actions).not.toContain('start');
  });

  test('another unit waits for the leader to migrate, then serves without migrating', async () => {
    const w = new FakeWorkload();
    const s = state(spec, { unit: 'django/1', relations: [db()], leaderData: { [SECRET_KEY]: 's3cret' } });
    const waitingOut = await run(build(w), event.configChanged(), s);
    expect(waitingOut.unitStatus).toEqual({ name: 'waiting', message: `waiting for the leader to run migrations for ${RELEASE}` });
    expect(w.actions).not.toContain('start');

    const out = await run(build(w), event.leaderSettingsChanged(), { ...waitingOut, leaderData: ready });
    expect(w.actions).not.toContain('migrate');
    serving(w);
    expect(out.unitStatus?.name).toBe('active');
    expect(w.written.secret_key).toBe('s3cret');
  });

  test('another unit without the leader\'s SECRET_KEY waits', async () => {
    const out = await run(build(new FakeWorkload()), event.configChanged(), state(spec, { unit: 'django/1', relations: [db()] }));
    expect(out.unitStatus).toEqual({ name: 'waiting', message: 'waiting for the leader to generate the SECRET_KEY' });
  });

  test('losing the db relation stops gunicorn and blocks', async () => {
    const w = new FakeWorkload({ isRunning: true });
    const s = state(spec, { leader: true, relations: [{ ...db(), remoteUnits: {} }], leaderData: ready });
    const out = await run(build(w), event.relationBroken(s.relations[0]!), s);
    expect(w.isRunning).toBe(false);
    expect(out.unitStatus?.message).toBe('needs a PostgreSQL database: sigil integrate django postgresql');
  });
});

describe('config and relations applied to a running unit', () => {
  const runningState = async (config: Record<string, unknown> = {}, relations: object[] = []) => {
    const w = new FakeWorkload();
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db(), ...(relations as never[])], leaderData: ready }));
    serving(w);
    w.calls = [];
    return { w, s: { ...out, config: { ...out.config, ...config } } };
  };

  test('debug=true rewrites the settings and reloads gracefully, no restart, no redeploy', async () => {
    const { w, s } = await runningState({ debug: true });
    const out = await run(build(w), event.configChanged(), s);
    expect(w.written.debug).toBe(true);
    expect(w.actions).toEqual(['prepare app', `build ${RELEASE} conference.settings`, 'writeSettings', 'reload']);
    expect(out.unitStatus?.message).toMatch(/; DEBUG on$/);
  });

  test('a new port restarts gunicorn and is published to the website relation and opened', async () => {
    const { w, s } = await runningState({ port: 8080 }, [website]);
    const out = await run(build(w), event.configChanged(), s);
    expect(w.actions).toContain('restart');
    expect(w.actions).not.toContain('reload');
    expect(out.ports).toEqual([{ port: 8080, protocol: 'tcp' }]);
    expect(out.relations.find((r) => r.endpoint === 'website')!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '8080' });
  });

  test('a cache relation switches Django to memcached with a graceful reload', async () => {
    const { w, s } = await runningState();
    const withCache = { ...s, relations: [...s.relations, state(spec, { relations: [cache] }).relations[0]!] };
    const out = await run(build(w), event.relationChanged(withCache.relations[1]!, 'memcached/0'), withCache);
    expect(w.written.cache).toEqual({ BACKEND: 'django.core.cache.backends.memcached.PyMemcacheCache', LOCATION: ['10.0.0.7:11211'], KEY_PREFIX: 'django' });
    expect(w.actions).toEqual([`build ${RELEASE} conference.settings`, 'writeSettings', 'reload']);
    expect(out.unitStatus?.message).toBe(`serving ${RELEASE} on port 8000 with memcached 10.0.0.7:11211`);
  });

  test('restricted allowed-hosts keep the unit\'s own address and local names for health checks', async () => {
    const { w, s } = await runningState({ 'allowed-hosts': 'conf.example.com, .example.org' });
    await run(build(w), event.configChanged(), s);
    expect(w.written.allowed_hosts).toEqual(['conf.example.com', '.example.org', '10.0.0.10', 'localhost', '127.0.0.1', '0.0.0.0']);
  });

  test('a new source content is migrated by the leader before it is served', async () => {
    const { w, s } = await runningState();
    w.sources.set('app', { id: 'dir-bbbbbbbbbbbb', manage: "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conference.settings')" });
    const out = await run(build(w), event.upgradeCharm(), s);
    expect(w.actions).toEqual(['install', 'prepare app', 'build dir-bbbbbbbbbbbb conference.settings', 'writeSettings', 'migrate', 'reload']);
    expect(out.leaderData[MIGRATED]).toBe('dir-bbbbbbbbbbbb@10.0.0.5:5432/django');
    // The previous release stays for the workers that are still finishing.
    expect([...w.releases].sort()).toEqual([RELEASE, 'dir-bbbbbbbbbbbb']);
  });
});

describe('bad config blocks naming the option and changes nothing', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['privileged port', { port: 80 }, 'port=80 is out of range: gunicorn runs as the unprivileged django user; use 1024-65535'],
    ['no workers', { workers: 0 }, 'workers=0 is out of range: use 1-32 gunicorn workers'],
    ['empty allowed-hosts', { 'allowed-hosts': ' ' }, 'allowed-hosts is empty'],
    ['bad host', { 'allowed-hosts': 'ok.example.com bad/host' }, 'allowed-hosts=ok.example.com bad/host has "bad/host"'],
    ['archive URL', { source: 'https://example.com/site.tar.gz' }, 'source=https://example.com/site.tar.gz is not a git URL: write git+https://example.com/site.tar.gz'],
    ['bad settings module', { 'settings-module': 'my site' }, 'settings-module=my site is not a Python module name'],
    ['bad revision', { source: 'git+https://example.com/x', revision: '--upload-pack=evil' }, 'revision=--upload-pack=evil is not a branch, tag or commit name'],
  ];
  test.each(cases)('%s', async (_name, config, message) => {
    const w = new FakeWorkload({ isRunning: true });
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: config as never, relations: [db()], leaderData: ready, ports: [{ port: 8000, protocol: 'tcp' }] }));
    expect(out.unitStatus?.name).toBe('blocked');
    expect(out.unitStatus?.message.startsWith(message)).toBe(true);
    expect(w.actions).toEqual([]);
    expect(out.ports).toEqual([{ port: 8000, protocol: 'tcp' }]);
  });

  test('a directory that is not on the machine blocks naming source; gunicorn keeps running', async () => {
    const w = new FakeWorkload({ isRunning: true });
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { source: '/srv/mysite' }, relations: [db()], leaderData: ready }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: 'source=/srv/mysite: /srv/mysite is not a directory on this machine' });
    expect(w.isRunning).toBe(true);
    expect(w.actions).not.toContain('writeSettings');
  });

  test('a project that does not load with the configured settings module blocks naming settings-module', async () => {
    const w = new FakeWorkload();
    w.failingModules.add('mysite.settings');
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { 'settings-module': 'mysite.settings' }, relations: [db()] }));
    expect(out.unitStatus?.message).toBe('settings-module=mysite.settings: the project does not load with settings mysite.settings: ModuleNotFoundError');
    expect(w.actions).not.toContain('migrate');
  });

  test('a project without manage.py needs settings-module', async () => {
    const w = new FakeWorkload();
    w.sources.set('/srv/bare', { id: 'dir-cccccccccccc', manage: undefined });
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { source: '/srv/bare' } }));
    expect(out.unitStatus?.message).toBe('settings-module is empty and source=/srv/bare has no manage.py naming one: set settings-module (e.g. mysite.settings)');
  });
});

describe('git sources', () => {
  const url = 'https://git.example.com/conf.git';

  test('git is installed on demand and the revision is fetched', async () => {
    const w = new FakeWorkload();
    w.sources.set(`${url}@v2`, { id: 'git-0123456789ab', manage: "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conf.settings')" });
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { source: `git+${url}`, revision: 'v2' }, relations: [db()] }));
    expect(w.actions.slice(0, 3)).toEqual(['installGit', `prepare ${url}@v2`, 'build git-0123456789ab conf.settings']);
    expect(out.leaderData[MIGRATED]).toBe('git-0123456789ab@10.0.0.5:5432/django');
  });

  test('an unknown revision blocks naming revision', async () => {
    const w = new FakeWorkload();
    w.sources.set(`${url}@nope`, new SourceError(`nope is not a branch, tag or commit of ${url}`, 'revision'));
    const out = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { source: url, revision: 'nope' } }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message: `revision=nope: nope is not a branch, tag or commit of ${url}` });
  });

  test('config-changed does not fetch an unchanged git source again; the redeploy action does', async () => {
    const w = new FakeWorkload();
    w.sources.set(url, { id: 'git-0123456789ab', manage: "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conf.settings')" });
    const first = await run(build(w), event.configChanged(), state(spec, { leader: true, config: { source: url }, relations: [db()] }));
    w.calls = [];
    await run(build(w), event.configChanged(), first);
    expect(w.actions.filter((a) => a.startsWith('prepare'))).toEqual([]);
    w.sources.set(url, { id: 'git-fedcba987654', manage: "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conf.settings')" });
    const out = await run(build(w), event.action('redeploy'), first);
    expect(out.action).toEqual({ results: { release: 'git-fedcba987654' }, failed: undefined, logs: [] });
    expect(w.actions).toContain('migrate');
    expect(out.leaderData[MIGRATED]).toBe('git-fedcba987654@10.0.0.5:5432/django');
  });
});

describe('actions', () => {
  test('create-superuser needs the database', async () => {
    const out = await run(build(new FakeWorkload()), event.action('create-superuser', { username: 'admin' }), state(spec));
    expect(out.action?.failed).toBe('django/0 has no database yet: relate django to postgresql and wait for the unit to be active');
  });

  test('create-superuser generates a password when none is given and returns it', async () => {
    const w = new FakeWorkload();
    const s = await run(build(w), event.configChanged(), state(spec, { leader: true, relations: [db()] }));
    const out = await run(build(w), event.action('create-superuser', { username: 'admin', email: 'a@example.com' }), s);
    expect(out.action?.results).toMatchObject({ username: 'admin', outcome: 'created' });
    expect(out.action?.results.password).toMatch(/^[\w-]{16}$/);
    expect(w.calls).toContain('createSuperuser admin a@example.com 16');
  });
});

import { describe, expect, test } from 'vitest';
import { ConfigError, parseSource, settingsModuleOf } from './config.ts';
import { cacheServers, databaseFrom, databaseName } from './relations.ts';
import { servedRelease } from './render.ts';

describe('source', () => {
  const cases: [string, string, ReturnType<typeof parseSource>][] = [
    ['git+https://example.com/org/site', '', { kind: 'git', url: 'https://example.com/org/site', revision: '' }],
    ['git+file:///srv/site.git', 'main', { kind: 'git', url: 'file:///srv/site.git', revision: 'main' }],
    ['git+ssh://git@example.com/org/site', 'v1.2', { kind: 'git', url: 'ssh://git@example.com/org/site', revision: 'v1.2' }],
    ['git://example.com/site', '', { kind: 'git', url: 'git://example.com/site', revision: '' }],
    ['https://example.com/org/site.git', '', { kind: 'git', url: 'https://example.com/org/site.git', revision: '' }],
    ['git@example.com:org/site.git', '', { kind: 'git', url: 'git@example.com:org/site.git', revision: '' }],
    ['/srv/mysite/', 'ignored', { kind: 'dir', path: '/srv/mysite/', inCharm: false }],
    ['app', '', { kind: 'dir', path: 'app', inCharm: true }],
    ['./examples/../app', '', { kind: 'dir', path: 'app', inCharm: true }],
  ];
  test.each(cases)('%s (revision %s)', (source, revision, want) => {
    expect(parseSource(source, revision)).toEqual(want);
  });

  const bad: [string, string, RegExp][] = [
    ['', '', /^source is empty/],
    ['https://example.com/site.tar.gz', '', /is not a git URL: write git\+https:\/\/example.com\/site.tar.gz/],
    ['ftp://example.com/site', '', /is not a git URL/],
    ['../outside', '', /leaves the charm directory: use an absolute path/],
    ['git+https://example.com/x', '-x', /revision=-x is not a branch, tag or commit name/],
  ];
  test.each(bad)('refuses %s', (source, revision, message) => {
    expect(() => parseSource(source, revision)).toThrow(ConfigError);
    expect(() => parseSource(source, revision)).toThrow(message);
  });
});

test('the settings module comes from manage.py as startproject writes it', () => {
  expect(settingsModuleOf(`os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')`)).toBe('mysite.settings');
  expect(settingsModuleOf(`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "a.b.prod")`)).toBe('a.b.prod');
  expect(settingsModuleOf('print("no settings here")')).toBeUndefined();
  expect(settingsModuleOf(undefined)).toBeUndefined();
});

describe('pgsql: the database granted to this unit', () => {
  const bag = { host: '10.0.0.5', port: '5432', database: 'django', user: 'u', password: 'p', 'allowed-units': 'django/0 django/1', state: 'standalone' };

  test('credentials count once allowed-units names this unit and the database is the one asked for', () => {
    expect(databaseFrom({ 'postgresql/0': bag }, 'django/1', 'django')).toEqual({ host: '10.0.0.5', port: 5432, name: 'django', user: 'u', password: 'p' });
    expect(databaseFrom({ 'postgresql/0': bag }, 'django/2', 'django')).toBeUndefined();
    expect(databaseFrom({ 'postgresql/0': { ...bag, database: 'other' } }, 'django/0', 'django')).toBeUndefined();
    expect(databaseFrom({ 'postgresql/0': { ...bag, password: '' } }, 'django/0', 'django')).toBeUndefined();
  });

  test('a hot standby is skipped for the master', () => {
    const units = { 'postgresql/0': { ...bag, state: 'hot standby', host: '10.0.0.5' }, 'postgresql/1': { ...bag, state: 'master', host: '10.0.0.6' } };
    expect(databaseFrom(units, 'django/0', 'django')?.host).toBe('10.0.0.6');
  });

  test('the database is named after the application, as PostgreSQL allows', () => {
    expect(databaseName('django')).toBe('django');
    expect(databaseName('conf-site')).toBe('conf_site');
  });
});

test('memcache servers: every unit that published host and port, sorted and deduplicated', () => {
  const units = { 'memcached/1': { host: '10.0.0.8', port: '11211' }, 'memcached/0': { host: '10.0.0.7', port: '11211' }, 'memcached/2': { host: '10.0.0.9' }, 'memcached/3': { host: 'fd00::1', port: '11211' } };
  expect(cacheServers(units)).toEqual(['10.0.0.7:11211', '10.0.0.8:11211', '[fd00::1]:11211']);
});

test('the release a settings file serves', () => {
  expect(servedRelease('{"project_dir": "/srv/django/releases/dir-abc"}')).toBe('dir-abc');
  expect(servedRelease('')).toBeUndefined();
});

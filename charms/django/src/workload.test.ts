/**
 * The machine workload's source handling against the real tools (cp, git, tar) in a
 * temporary root, and the settings module it installs run by a real python3. What needs
 * Django, apt and systemd is covered by e2e/stack-conference.test.ts.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSettings } from './render.ts';
import { MachineWorkload, SourceError } from './workload.ts';
import { canRun } from '../../../tests/ci.ts';

const CHARM = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'django-workload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const has = (cmd: string) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function project(dir: string, settings = 'mysite.settings') {
  mkdirSync(join(dir, 'mysite'), { recursive: true });
  writeFileSync(join(dir, 'manage.py'), `import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', '${settings}')\n`);
  writeFileSync(join(dir, 'mysite', 'settings.py'), 'DEBUG = True\n');
}

describe('directory sources', () => {
  const w = new MachineWorkload(CHARM, join(tmp, 'dir-root'));

  test('the demo shipped in the charm becomes a release with its manage.py', async () => {
    const p = await w.prepare({ kind: 'dir', path: 'app', inCharm: true });
    expect(p.id).toMatch(/^dir-[0-9a-f]{12}$/);
    expect(p.manage).toContain("'DJANGO_SETTINGS_MODULE', 'conference.settings'");
    expect(existsSync(join(w.release(p.id).projectDir, 'schedule', 'migrations', '0002_seed.py'))).toBe(true);
  });

  test('the same content gives the same release; a change gives a new one; caches do not count', async () => {
    const src = join(tmp, 'site');
    project(src);
    const a = await w.prepare({ kind: 'dir', path: src, inCharm: false });
    mkdirSync(join(src, 'mysite', '__pycache__'));
    writeFileSync(join(src, 'mysite', '__pycache__', 'settings.cpython-311.pyc'), 'bytecode');
    expect((await w.prepare({ kind: 'dir', path: src, inCharm: false })).id).toBe(a.id);
    writeFileSync(join(src, 'mysite', 'settings.py'), 'DEBUG = False\n');
    const b = await w.prepare({ kind: 'dir', path: src, inCharm: false });
    expect(b.id).not.toBe(a.id);
    expect(readFileSync(join(w.release(b.id).projectDir, 'mysite', 'settings.py'), 'utf8')).toBe('DEBUG = False\n');
    await w.prune([b.id]);
    expect(await w.hasRelease(a.id)).toBe(false);
    expect(await w.hasRelease(b.id)).toBe(true);
  });

  test('a directory that is not there is a SourceError with a hint', async () => {
    const err = await w.prepare({ kind: 'dir', path: '/nonexistent/site', inCharm: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toBe('/nonexistent/site is not a directory on this machine: copy the project there first (e.g. sigil scp), or use a git URL');
  });
});

describe.skipIf(!canRun(has('git'), 'git'))('git sources (a repository served from this machine)', () => {
  const w = new MachineWorkload(CHARM, join(tmp, 'git-root'));
  const repo = join(tmp, 'repo');
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
  project(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  git('tag', 'v1');
  const first = git('rev-parse', 'HEAD');
  const url = `file://${repo}`;

  test('clones the default branch into a release named after the commit', async () => {
    const p = await w.prepare({ kind: 'git', url, revision: '' });
    expect(p.id).toBe(`git-${first.slice(0, 12)}`);
    expect(p.manage).toContain('mysite.settings');
    expect(existsSync(join(w.release(p.id).projectDir, '.git'))).toBe(false);
  });

  test('fetches new commits; a tag or commit pins the revision', async () => {
    writeFileSync(join(repo, 'mysite', 'settings.py'), 'DEBUG = False\n');
    git('commit', '-q', '-am', 'second');
    const second = git('rev-parse', 'HEAD');
    expect((await w.prepare({ kind: 'git', url, revision: '' })).id).toBe(`git-${second.slice(0, 12)}`);
    expect((await w.prepare({ kind: 'git', url, revision: 'v1' })).id).toBe(`git-${first.slice(0, 12)}`);
    expect((await w.prepare({ kind: 'git', url, revision: first.slice(0, 8) })).id).toBe(`git-${first.slice(0, 12)}`);
    expect((await w.prepare({ kind: 'git', url, revision: 'main' })).id).toBe(`git-${second.slice(0, 12)}`);
  });

  test('an unknown revision names revision; an unreachable repository names source', async () => {
    const rev = await w.prepare({ kind: 'git', url, revision: 'nope' }).catch((e: unknown) => e);
    expect(rev).toBeInstanceOf(SourceError);
    expect(rev).toMatchObject({ option: 'revision', message: `nope is not a branch, tag or commit of ${url}` });
    const gone = await w.prepare({ kind: 'git', url: `file://${tmp}/missing.git`, revision: '' }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ option: 'source' });
    expect((gone as Error).message).toMatch(/^git cannot fetch file:\/\/.*missing\.git: fatal: '.*missing\.git' does not appear to be a git repository/);
  });
});

describe.skipIf(!canRun(has('python3'), 'python3'))('sigil_settings.py, the settings module gunicorn loads', () => {
  test("puts the charm's settings over the project's and adds WhiteNoise after SecurityMiddleware", () => {
    const dir = join(tmp, 'overlay');
    mkdirSync(join(dir, 'proj', 'mysite'), { recursive: true });
    writeFileSync(join(dir, 'proj', 'mysite', '__init__.py'), '');
    writeFileSync(
      join(dir, 'proj', 'mysite', 'settings.py'),
      "DEBUG = True\nSECRET_KEY = 'dev'\nTIME_ZONE = 'Europe/Paris'\nMIDDLEWARE = ['django.middleware.security.SecurityMiddleware', 'x.Other']\n_private = 1\n",
    );
    const settings = renderSettings({
      release: { id: 'dir-1', projectDir: join(dir, 'proj'), staticRoot: '/srv/django/static/dir-1' },
      settingsModule: 'mysite.settings',
      debug: false,
      secretKey: 'from-the-leader',
      allowedHosts: ['*'],
      database: { host: '10.0.0.5', port: 5432, name: 'django', user: 'u', password: 'p' },
      cacheServers: ['10.0.0.7:11211'],
      cachePrefix: 'django',
    });
    writeFileSync(join(dir, 'settings.json'), settings);
    const out = execFileSync(
      'python3',
      ['-c', 'import json, sigil_settings as s; print(json.dumps({k: getattr(s, k) for k in dir(s) if k.isupper()}))'],
      { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: join(CHARM, 'files'), SIGIL_DJANGO_SETTINGS: join(dir, 'settings.json') }, encoding: 'utf8' },
    );
    const s = JSON.parse(out) as Record<string, unknown>;
    expect(s).toMatchObject({
      DEBUG: false,
      SECRET_KEY: 'from-the-leader',
      TIME_ZONE: 'Europe/Paris',
      ALLOWED_HOSTS: ['*'],
      STATIC_ROOT: '/srv/django/static/dir-1',
      STATIC_URL: '/static/',
      MIDDLEWARE: ['django.middleware.security.SecurityMiddleware', 'whitenoise.middleware.WhiteNoiseMiddleware', 'x.Other'],
    });
    expect(s.DATABASES).toEqual({ default: { ENGINE: 'django.db.backends.postgresql', NAME: 'django', USER: 'u', PASSWORD: 'p', HOST: '10.0.0.5', PORT: '5432', CONN_MAX_AGE: 60 } });
    expect(s.CACHES).toEqual({ default: { BACKEND: 'django.core.cache.backends.memcached.PyMemcacheCache', LOCATION: ['10.0.0.7:11211'], KEY_PREFIX: 'django' } });
  });
});

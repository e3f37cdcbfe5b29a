/**
 * What the django charm does to its machine, behind an interface the tests replace:
 * Debian's Django and gunicorn, release directories built from the source, the settings
 * file, the systemd service, and manage.py commands.
 *
 * Layout (under `root`, / on a machine; a temporary directory in the workload tests):
 *   /srv/django/releases/<id>/     a copy of the project (one per distinct source content)
 *   /srv/django/static/<id>/       its collected static files
 *   /srv/django/git/               a mirror of the git source, fetched on redeploy
 *   /etc/sigil-django/             settings.json (secrets: root:django 0640),
 *                                  sigil_settings.py and sigil_wsgi.py (from files/)
 */
import { CommandError, aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Source } from './config.ts';
import { buildSettings, type Release } from './render.ts';

// libjs-jquery: the admin's jQuery is a symlink into it (a Recommends of python3-django).
export const PACKAGES = ['python3-django', 'libjs-jquery', 'gunicorn', 'python3-psycopg2', 'python3-pymemcache', 'python3-whitenoise'];
export const SERVICE = 'django.service';
/** How long migrate keeps retrying a database that refuses connections. */
const MIGRATE_CONNECT_WAIT_MS = 120_000;

/** A source the charm cannot use; `option` is the config option to name in the blocked status. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly option: 'source' | 'revision' | 'settings-module' = 'source',
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface Prepared {
  id: string;
  /** manage.py at the top of the project, if there is one (it names the settings module). */
  manage: string | undefined;
}

export interface Paths {
  overlayDir: string;
  settingsFile: string;
  workDir: string;
}

export interface Workload {
  readonly paths: Paths;
  install(): Promise<void>;
  /** Puts sigil_settings.py and sigil_wsgi.py from the charm in place (install, upgrade). */
  installOverlay(): Promise<void>;
  /** git, only when a git source needs it. */
  installGit(): Promise<void>;
  djangoVersion(): Promise<string>;
  /** Copies or fetches the source into a release directory; throws SourceError. */
  prepare(source: Source): Promise<Prepared>;
  release(id: string): Release;
  hasRelease(id: string): Promise<boolean>;
  /** collectstatic for the release, once per settings module; throws SourceError when the project does not load. */
  build(release: Release, settingsModule: string): Promise<void>;
  /** Deletes releases other than these. */
  prune(keep: readonly string[]): Promise<void>;
  readSettings(): Promise<string>;
  /** Returns whether the file changed. */
  writeSettings(text: string): Promise<boolean>;
  /** Writes the systemd unit (daemon-reload when it changed); returns whether it changed. */
  writeService(text: string): Promise<boolean>;
  /** manage.py migrate with the live settings; resolves with its output. */
  migrate(): Promise<string>;
  running(): Promise<boolean>;
  /** Whether gunicorn accepts connections on the port, waiting a little for it to bind. */
  answers(port: number): Promise<boolean>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Graceful: gunicorn's SIGHUP starts new workers with fresh settings, then retires the old. */
  reload(): Promise<void>;
  stop(): Promise<void>;
  createSuperuser(username: string, email: string, password: string): Promise<'created' | 'updated'>;
}

const SKIPPED = new Set(['.git', '__pycache__']);

export class MachineWorkload implements Workload {
  readonly paths: Paths;
  private readonly base: string;
  private readonly etc: string;
  private djangoIds: { uid: number; gid: number } | undefined;

  /** `charmDir` resolves sources inside the charm; `root` relocates everything (tests). */
  constructor(
    private readonly charmDir: string,
    private readonly root = '/',
  ) {
    this.base = join(root, 'srv', 'django');
    this.etc = join(root, 'etc', 'sigil-django');
    this.paths = { overlayDir: this.etc, settingsFile: join(this.etc, 'settings.json'), workDir: this.base };
  }

  async install() {
    await aptInstall(PACKAGES);
    const exists = await sh(['id', '-u', 'django']).then(
      () => true,
      () => false,
    );
    if (!exists) await sh(['useradd', '--system', '--user-group', '--home-dir', this.base, '--no-create-home', '--shell', '/usr/sbin/nologin', 'django']);
    await mkdir(join(this.base, 'releases'), { recursive: true });
    await this.installOverlay();
  }

  async installOverlay() {
    await mkdir(this.etc, { recursive: true });
    for (const f of ['sigil_settings.py', 'sigil_wsgi.py']) await writeIfChanged(join(this.etc, f), await readFile(join(this.charmDir, 'files', f), 'utf8'));
  }

  async installGit() {
    await aptInstall(['git']);
  }

  async djangoVersion() {
    return (await sh(['python3', '-c', 'import django; print(django.get_version())'])).trim();
  }

  release(id: string): Release {
    return { id, projectDir: join(this.base, 'releases', id), staticRoot: join(this.base, 'static', id) };
  }

  async hasRelease(id: string) {
    return existsSync(this.release(id).projectDir);
  }

  async prepare(source: Source): Promise<Prepared> {
    const id = source.kind === 'git' ? await this.fetch(source.url, source.revision) : await this.copy(source.inCharm ? join(this.charmDir, source.path) : source.path);
    return { id, manage: await readFile(join(this.release(id).projectDir, 'manage.py'), 'utf8').catch(() => undefined) };
  }

  /** Copies a directory into the release named after a hash of its files. */
  private async copy(dir: string): Promise<string> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new SourceError(`${dir} is not a directory on this machine: copy the project there first (e.g. sigil scp), or use a git URL`);
    }
    const id = `dir-${treeHash(dir).slice(0, 12)}`;
    const dest = this.release(id).projectDir;
    if (existsSync(dest)) return id;
    await rm(`${dest}.tmp`, { recursive: true, force: true });
    await mkdir(`${dest}.tmp`, { recursive: true });
    await sh(['cp', '-a', `${dir}/.`, `${dest}.tmp`]);
    await rename(`${dest}.tmp`, dest);
    return id;
  }

  /** Mirrors the repository (fetching when it exists) and exports the revision into a release. */
  private async fetch(url: string, revision: string): Promise<string> {
    const repo = join(this.base, 'git');
    const env = { GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new' };
    const git = (args: string[]) => sh(['git', ...args], { env, timeoutMs: 300_000 });
    const origin = existsSync(repo) ? (await git(['-C', repo, 'config', 'remote.origin.url']).catch(() => '')).trim() : '';
    try {
      if (origin !== url) {
        await rm(repo, { recursive: true, force: true });
        await rm(`${repo}.tmp`, { recursive: true, force: true });
        await mkdir(this.base, { recursive: true });
        await git(['clone', '--mirror', '--quiet', url, `${repo}.tmp`]);
        await rename(`${repo}.tmp`, repo);
      } else {
        await git(['-C', repo, 'fetch', '--prune', '--quiet', 'origin']);
      }
    } catch (e) {
      throw new SourceError(`git cannot fetch ${url}: ${tail(e)}`);
    }
    const rev = revision || 'HEAD';
    const sha = (await git(['-C', repo, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).catch(() => '')).trim();
    if (!sha) throw new SourceError(`${rev} is not a branch, tag or commit of ${url}`, revision ? 'revision' : 'source');
    const id = `git-${sha.slice(0, 12)}`;
    const dest = this.release(id).projectDir;
    if (existsSync(dest)) return id;
    await rm(`${dest}.tmp`, { recursive: true, force: true });
    await mkdir(`${dest}.tmp`, { recursive: true });
    await git(['-C', repo, 'archive', '--format=tar', '-o', `${dest}.tar`, sha]);
    await sh(['tar', '-xf', `${dest}.tar`, '-C', `${dest}.tmp`]);
    await rm(`${dest}.tar`);
    await rename(`${dest}.tmp`, dest);
    return id;
  }

  async build(release: Release, settingsModule: string) {
    const marker = `${release.projectDir}.built`;
    if ((await readFile(marker, 'utf8').catch(() => '')) === settingsModule) return;
    const settings = `${release.projectDir}.build.json`;
    await writeIfChanged(settings, buildSettings(release, settingsModule));
    try {
      await this.manage(['collectstatic', '--noinput', '--clear', '-v', '0'], settings, release.projectDir);
    } catch (e) {
      throw new SourceError(`the project does not load with settings ${settingsModule}: ${tail(e)}`, 'settings-module');
    }
    await writeIfChanged(marker, settingsModule);
  }

  async prune(keep: readonly string[]) {
    const releases = join(this.base, 'releases');
    for (const name of existsSync(releases) ? readdirSync(releases) : []) {
      const id = name.replace(/(\.built|\.build\.json|\.tmp|\.tar)$/, '');
      if (keep.includes(id)) continue;
      await rm(join(releases, name), { recursive: true, force: true });
      await rm(join(this.base, 'static', id), { recursive: true, force: true });
    }
  }

  readSettings() {
    return readFile(this.paths.settingsFile, 'utf8').catch(() => '');
  }

  async writeSettings(text: string) {
    const { gid } = await this.django();
    return writeIfChanged(this.paths.settingsFile, text, { mode: 0o640, uid: 0, gid });
  }

  async writeService(text: string) {
    const changed = await writeIfChanged(join(this.root, 'etc', 'systemd', 'system', SERVICE), text);
    if (changed) {
      await sh(['systemctl', 'daemon-reload']);
      await systemctl('enable', SERVICE);
    }
    return changed;
  }

  async migrate() {
    const settings = JSON.parse(await this.readSettings()) as { project_dir: string };
    // A provider may publish credentials a moment before its server listens on the network
    // or reloads pg_hba.conf: connection errors are retried for a while, anything else is not.
    const deadline = Date.now() + MIGRATE_CONNECT_WAIT_MS;
    for (;;) {
      try {
        return await this.manage(['migrate', '--noinput'], this.paths.settingsFile, settings.project_dir);
      } catch (e) {
        const transient = e instanceof CommandError && /OperationalError: (connection to server|could not connect)/.test(e.stderr);
        if (!transient || Date.now() > deadline) throw new Error(tail(e));
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  }

  running() {
    return isActive(SERVICE);
  }

  async answers(port: number) {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  async start() {
    await systemctl('start', SERVICE);
  }

  async restart() {
    await systemctl('restart', SERVICE);
  }

  async reload() {
    await systemctl('reload', SERVICE);
  }

  async stop() {
    if (existsSync(join(this.root, 'etc', 'systemd', 'system', SERVICE))) await systemctl('stop', SERVICE);
  }

  async createSuperuser(username: string, email: string, password: string) {
    const script = [
      'import os',
      'from django.contrib.auth import get_user_model',
      'User = get_user_model()',
      "user, created = User._default_manager.get_or_create(**{User.USERNAME_FIELD: os.environ['SIGIL_USERNAME']})",
      "if os.environ['SIGIL_EMAIL'] and hasattr(user, 'email'): user.email = os.environ['SIGIL_EMAIL']",
      'user.is_staff = user.is_superuser = True',
      "user.set_password(os.environ['SIGIL_PASSWORD'])",
      'user.save()',
      "print('created' if created else 'updated')",
    ].join('\n');
    const settings = JSON.parse(await this.readSettings()) as { project_dir: string };
    const out = await this.manage(['shell', '-c', script], this.paths.settingsFile, settings.project_dir, { SIGIL_USERNAME: username, SIGIL_EMAIL: email, SIGIL_PASSWORD: password });
    return out.trim().endsWith('created') ? 'created' : 'updated';
  }

  /** `python3 -m django <args>` with the charm's settings module over the project's. */
  private manage(args: string[], settingsFile: string, cwd: string, extra: Record<string, string> = {}) {
    const env = { ...extra, PYTHONPATH: this.etc, DJANGO_SETTINGS_MODULE: 'sigil_settings', SIGIL_DJANGO_SETTINGS: settingsFile };
    return sh(['python3', '-m', 'django', ...args], { env, cwd, timeoutMs: 600_000 });
  }

  private async django() {
    this.djangoIds ??= { uid: Number(await sh(['id', '-u', 'django'])), gid: Number(await sh(['id', '-g', 'django'])) };
    return this.djangoIds;
  }
}

/** A hash of a tree's paths, executable bits and contents (.git and __pycache__ left out). */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      if (SKIPPED.has(name) || name.endsWith('.pyc')) continue;
      const full = join(d, name);
      const st = statSync(full);
      const path = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) walk(full, path);
      else if (st.isFile()) {
        h.update(`${path}\0${st.mode & 0o111 ? 'x' : '-'}\0${st.size}\0`);
        h.update(readFileSync(full));
      }
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

/** What a failed command said, for a status message: its fatal/error lines, else its last lines. */
function tail(e: unknown): string {
  if (!(e instanceof CommandError)) return e instanceof Error ? e.message : String(e);
  const lines = (e.stderr.trim() || e.stdout.trim() || e.message).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const errors = lines.filter((l) => /^(fatal|error):/i.test(l));
  return (errors.length ? errors.slice(0, 2) : lines.slice(-3)).join(' / ');
}

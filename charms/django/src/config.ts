/**
 * The charm's config, checked and decided without I/O: where the project comes from, how
 * gunicorn runs, what Django is told. A bad value gives a message naming the option, which
 * the charm shows as its blocked status before writing anything.
 */
import { posix } from 'node:path';

/** Where the Django project comes from. */
export type Source =
  | { readonly kind: 'git'; readonly url: string; readonly revision: string }
  /** A directory: absolute on the machine, or relative to the charm directory (`inCharm`). */
  | { readonly kind: 'dir'; readonly path: string; readonly inCharm: boolean };

export interface Settings {
  readonly source: Source;
  /** The configured settings module, or undefined to read it from manage.py. */
  readonly settingsModule: string | undefined;
  readonly port: number;
  readonly workers: number;
  readonly debug: boolean;
  /** ['*'], or the configured hosts (the charm adds its own address and local names). */
  readonly allowedHosts: readonly string[];
}

export interface Config {
  readonly source: string;
  readonly revision: string;
  readonly 'settings-module': string;
  readonly port: number;
  readonly workers: number;
  readonly debug: boolean;
  readonly 'allowed-hosts': string;
}

export class ConfigError extends Error {}

const MODULE = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;
const HOST = /^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(:\d+)?$/;
const REVISION = /^[\w][\w./-]*$/;

/** Checks every option; throws ConfigError naming the first bad one. */
export function settingsFrom(c: Config): Settings {
  const source = parseSource(c.source, c.revision);
  const module = c['settings-module'].trim();
  if (module !== '' && !MODULE.test(module)) throw new ConfigError(`settings-module=${module} is not a Python module name: use a dotted name such as mysite.settings`);
  if (!Number.isInteger(c.port) || c.port < 1024 || c.port > 65535) {
    throw new ConfigError(`port=${c.port} is out of range: gunicorn runs as the unprivileged django user; use 1024-65535`);
  }
  if (!Number.isInteger(c.workers) || c.workers < 1 || c.workers > 32) throw new ConfigError(`workers=${c.workers} is out of range: use 1-32 gunicorn workers`);
  const hosts = c['allowed-hosts'].split(/[\s,]+/).filter((h) => h !== '');
  if (hosts.length === 0) throw new ConfigError('allowed-hosts is empty: Django would refuse every request; use "*" or the site\'s host names');
  const bad = hosts.find((h) => !HOST.test(h));
  if (bad !== undefined) throw new ConfigError(`allowed-hosts=${c['allowed-hosts']} has "${bad}", which is not a host name, .domain or "*"`);
  return { source, settingsModule: module === '' ? undefined : module, port: c.port, workers: c.workers, debug: c.debug, allowedHosts: hosts.includes('*') ? ['*'] : hosts };
}

/**
 * Reads `source`: a git URL (git+<scheme>://…, git://…, an https/ssh/file URL ending in
 * .git, or user@host:path.git), an absolute directory on the machine, or a directory
 * relative to the charm. `revision` only means something for git.
 */
export function parseSource(source: string, revision: string): Source {
  const s = source.trim();
  const rev = revision.trim();
  if (s === '') throw new ConfigError('source is empty: give a git URL (git+https://…), a directory on the machine (/srv/mysite) or one in the charm (app, the demo)');
  if (rev !== '' && !REVISION.test(rev)) throw new ConfigError(`revision=${rev} is not a branch, tag or commit name`);
  const git = (url: string): Source => ({ kind: 'git', url, revision: rev });
  if (/^git\+[a-z][a-z0-9+.-]*:\/\/./i.test(s)) return git(s.slice('git+'.length));
  if (/^git:\/\/./i.test(s)) return git(s);
  if (/^(https?|ssh|file):\/\/.+\.git\/?$/i.test(s)) return git(s);
  if (/^[\w.-]+@[\w.-]+:[^/].*\.git\/?$/.test(s)) return git(s);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new ConfigError(`source=${s} is not a git URL: write git+${s} for a git repository over that scheme (archives are not supported)`);
  }
  if (s.startsWith('/')) return { kind: 'dir', path: posix.normalize(s), inCharm: false };
  const path = posix.normalize(s);
  if (path === '..' || path.startsWith('../')) throw new ConfigError(`source=${s} leaves the charm directory: use an absolute path for a directory on the machine`);
  return { kind: 'dir', path, inCharm: true };
}

export function describeSource(s: Source): string {
  if (s.kind === 'git') return s.revision ? `${s.url}@${s.revision}` : s.url;
  return s.inCharm ? `${s.path} (in the charm)` : s.path;
}

/**
 * The settings module manage.py names, as `django-admin startproject` writes it:
 * os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings').
 */
export function settingsModuleOf(manage: string | undefined): string | undefined {
  const m = /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]/.exec(manage ?? '');
  return m?.[1];
}

/** ALLOWED_HOSTS as served: '*' as is; a list gains the names health checks and local tools use. */
export function allowedHosts(s: Settings, address: string): string[] {
  if (s.allowedHosts.includes('*')) return ['*'];
  return [...new Set([...s.allowedHosts, address, 'localhost', '127.0.0.1', '0.0.0.0'])];
}

/** An in-memory Django machine for the charm's tests: records what the charm asked of it. */
import type { Source } from './config.ts';
import type { Release } from './render.ts';
import { type Prepared, SourceError, type Workload } from './workload.ts';

const MANAGE = "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conference.settings')";

export class FakeWorkload implements Workload {
  readonly paths = { overlayDir: '/etc/sigil-django', settingsFile: '/etc/sigil-django/settings.json', workDir: '/srv/django' };
  calls: string[] = [];
  isRunning = false;
  settings = '';
  service = '';
  releases = new Set<string>();
  /** What each source gives: a release id and manage.py, or the SourceError it raises. */
  sources = new Map<string, Prepared | SourceError>([['app', { id: 'dir-aaaaaaaaaaaa', manage: MANAGE }]]);
  /** Builds fail for these settings modules (the project does not import). */
  failingModules = new Set<string>();
  migrateFails = false;
  /** Whether gunicorn binds its port once started. */
  binds = true;

  constructor(init: Partial<Pick<FakeWorkload, 'isRunning' | 'settings' | 'service'>> = {}) {
    Object.assign(this, init);
  }

  /** The calls that change the machine, for asserting what happened. */
  get actions(): string[] {
    return this.calls.filter((c) => !/^(answers|djangoVersion|hasRelease|readSettings|running)\b/.test(c));
  }

  /** The settings.json last written, parsed. */
  get written(): Record<string, unknown> {
    return JSON.parse(this.settings) as Record<string, unknown>;
  }

  async install() {
    this.calls.push('install');
  }
  async installOverlay() {
    this.calls.push('installOverlay');
  }
  async installGit() {
    this.calls.push('installGit');
  }
  async djangoVersion() {
    this.calls.push('djangoVersion');
    return '3.2.25';
  }
  async prepare(source: Source) {
    const key = source.kind === 'git' ? `${source.url}${source.revision ? `@${source.revision}` : ''}` : source.path;
    this.calls.push(`prepare ${key}`);
    const p = this.sources.get(key);
    if (p === undefined) throw new SourceError(`${key} is not a directory on this machine`);
    if (p instanceof SourceError) throw p;
    this.releases.add(p.id);
    return p;
  }
  release(id: string): Release {
    return { id, projectDir: `/srv/django/releases/${id}`, staticRoot: `/srv/django/static/${id}` };
  }
  async hasRelease(id: string) {
    this.calls.push(`hasRelease ${id}`);
    return this.releases.has(id);
  }
  async build(release: Release, settingsModule: string) {
    this.calls.push(`build ${release.id} ${settingsModule}`);
    if (this.failingModules.has(settingsModule)) throw new SourceError(`the project does not load with settings ${settingsModule}: ModuleNotFoundError`, 'settings-module');
  }
  async prune(keep: readonly string[]) {
    for (const id of [...this.releases]) if (!keep.includes(id)) this.releases.delete(id);
  }
  async readSettings() {
    this.calls.push('readSettings');
    return this.settings;
  }
  async writeSettings(text: string) {
    if (text === this.settings) return false;
    this.calls.push('writeSettings');
    this.settings = text;
    return true;
  }
  async writeService(text: string) {
    if (text === this.service) return false;
    this.calls.push('writeService');
    this.service = text;
    return true;
  }
  async migrate() {
    this.calls.push('migrate');
    if (this.migrateFails) throw new Error('could not connect to server: Connection refused');
    return 'Applying schedule.0001_initial... OK\nApplying schedule.0002_seed... OK';
  }
  async running() {
    this.calls.push('running');
    return this.isRunning;
  }
  async answers(port: number) {
    this.calls.push(`answers ${port}`);
    return this.binds;
  }
  async start() {
    this.calls.push('start');
    this.isRunning = true;
  }
  async restart() {
    this.calls.push('restart');
    this.isRunning = true;
  }
  async reload() {
    this.calls.push('reload');
  }
  async stop() {
    this.calls.push('stop');
    this.isRunning = false;
  }
  async createSuperuser(username: string, email: string, password: string) {
    this.calls.push(`createSuperuser ${username} ${email} ${password.length}`);
    return 'created' as const;
  }
}

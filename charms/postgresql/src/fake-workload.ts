/** An in-memory PostgreSQL machine for the charm's tests: records what the charm asked of it. */
import { parse } from './settings.ts';
import type { ClientSetup, Workload } from './workload.ts';

export interface FakeRole {
  login: boolean;
  password: string | undefined;
  superuser: boolean;
  memberOf: string[];
}

export class FakeWorkload implements Workload {
  calls: string[] = [];
  running = true;
  settings: string | undefined;
  hbaText = '';
  roles = new Map<string, FakeRole>();
  databases = new Map<string, { extensions: string[] }>();
  /** PostgreSQL's verdict per `name=value` (what `postgres -C` would print). */
  rejects = new Map<string, string>();
  /** Restart fails while the settings match this predicate. */
  failsToStart: (settings: Record<string, string>) => string | undefined = () => undefined;
  extensions = ['citext', 'hstore', 'pgcrypto'];

  constructor(init: Partial<Pick<FakeWorkload, 'running' | 'settings' | 'hbaText'>> = {}) {
    Object.assign(this, init);
  }

  /** The calls that change the server's state, for asserting what happened. */
  get actions(): string[] {
    return this.calls.filter((c) => /^(install|start|stop|restart|reload|writeSettings|writeHba|ensureClient|revoke|backup|restore)\b/.test(c));
  }

  async install() {
    this.calls.push('install');
  }
  async version() {
    return '15.10';
  }
  async isRunning() {
    return this.running;
  }
  async ready() {
    return this.running;
  }
  async start() {
    this.calls.push('start');
    this.running = true;
  }
  async stop() {
    this.calls.push('stop');
    this.running = false;
  }
  async restart() {
    this.calls.push('restart');
    const why = this.failsToStart(parse(this.settings));
    this.running = why === undefined;
    if (why) throw new Error(why);
  }
  async reload() {
    this.calls.push('reload');
  }
  async readSettings() {
    return this.settings;
  }
  async writeSettings(text: string) {
    this.calls.push('writeSettings');
    this.settings = text;
  }
  async checkSetting(name: string, value: string) {
    this.calls.push(`checkSetting ${name}=${value}`);
    return this.rejects.get(`${name}=${value}`);
  }
  async writeHba(text: string) {
    if (text === this.hbaText) return false;
    this.calls.push('writeHba');
    this.hbaText = text;
    return true;
  }
  async availableExtensions() {
    return this.extensions;
  }
  async ensureClient(c: ClientSetup) {
    this.calls.push(`ensureClient ${c.user} ${c.database}`);
    const memberOf = [...new Set([...(this.roles.get(c.user)?.memberOf ?? []), ...c.roles])];
    this.roles.set(c.user, { login: true, password: c.password, superuser: c.superuser, memberOf });
    const db = this.databases.get(c.database) ?? { extensions: [] };
    db.extensions = [...new Set([...db.extensions, ...c.extensions.map((e) => e.name)])];
    this.databases.set(c.database, db);
  }
  async loginRoles() {
    return ['postgres', ...[...this.roles].filter(([, r]) => r.login).map(([n]) => n)];
  }
  async revoke(role: string) {
    this.calls.push(`revoke ${role}`);
    const r = this.roles.get(role);
    if (r) this.roles.set(role, { ...r, login: false, password: undefined, superuser: false });
  }
  async backup(database: string | undefined) {
    this.calls.push(`backup ${database ?? '(all)'}`);
    if (database !== undefined && !this.databases.has(database)) throw new Error(`database "${database}" does not exist`);
    const databases = database !== undefined ? [database] : [...this.databases.keys()].sort();
    return { path: database !== undefined ? `/var/backups/postgresql/${database}-20250101T000000Z.dump` : '/var/backups/postgresql/all-20250101T000000Z', databases };
  }
  async restore(path: string) {
    this.calls.push(`restore ${path}`);
    if (!path.startsWith('/var/backups/')) throw new Error(`${path} does not exist on this unit; copy the dump here first (sigil scp)`);
    return ['shop'];
  }
}

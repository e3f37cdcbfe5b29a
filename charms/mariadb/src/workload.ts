/**
 * What the charm does to its machine: the Debian MariaDB packages, the service, its
 * configuration file, SQL as root over the local socket, and dumps. The charm's tests
 * replace this with a fake that records the calls.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { CommandError, aptInstall, isActive, sh, writeIfChanged } from '@sigil/charm-sdk';

/** What a relation's user may do: everything on its database, or everything everywhere. */
export type Grant = { readonly database: string } | 'all';

export interface Workload {
  install(): Promise<void>;
  /** The MariaDB version, e.g. 10.11.6. */
  version(): Promise<string>;
  /** The memory MariaDB may use: the machine's, or its container's limit when lower. */
  memoryBytes(): Promise<number>;
  /** The charm's configuration file, or undefined before the charm first wrote it. */
  readConfig(): Promise<string | undefined>;
  writeConfig(text: string): Promise<void>;
  isRunning(): Promise<boolean>;
  /** (Re)starts MariaDB; rejects with the reason when it does not come up. */
  restart(): Promise<void>;
  /** SET GLOBAL name = value, or back to the default for null. */
  setGlobal(name: string, value: string | null): Promise<void>;
  ensureDatabase(name: string): Promise<void>;
  /** Creates the user or resets its password, and grants it `grant`. */
  ensureUser(user: string, password: string, grant: Grant): Promise<void>;
  /** Drops the user (if it exists) and ends its sessions, so its credentials stop working. */
  dropUser(user: string): Promise<void>;
  /** Dumps every application database to a new file in /var/backups; returns its path and databases. */
  backup(): Promise<{ path: string; databases: string[] }>;
  restore(path: string): Promise<void>;
}

export const CONFIG_FILE = '/etc/mysql/mariadb.conf.d/90-sigil.cnf';
const BACKUP_DIR = '/var/backups';
const SYSTEM_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

/** A quoted SQL string literal. */
export const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A quoted SQL identifier. */
export const ident = (s: string) => '`' + s.replace(/`/g, '``') + '`';
const account = (user: string) => `${literal(user)}@'%'`;

/** The statements that make `user` exist with `password` and `grant`, safe to run again. */
export function userStatements(user: string, password: string, grant: Grant): string[] {
  return [
    `CREATE USER IF NOT EXISTS ${account(user)} IDENTIFIED BY ${literal(password)}`,
    `ALTER USER ${account(user)} IDENTIFIED BY ${literal(password)}`,
    grant === 'all' ? `GRANT ALL PRIVILEGES ON *.* TO ${account(user)} WITH GRANT OPTION` : `GRANT ALL PRIVILEGES ON ${ident(grant.database)}.* TO ${account(user)}`,
  ];
}

export class MariadbWorkload implements Workload {
  async install() {
    await aptInstall(['mariadb-server', 'mariadb-client']);
  }

  async version() {
    const v = await sh(['dpkg-query', '-W', '-f=${Version}', 'mariadb-server']);
    // 1:10.11.6-0+deb12u1 → 10.11.6
    return v.replace(/^\d+:/, '').replace(/-.*$/, '');
  }

  async memoryBytes() {
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    const total = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0) * 1024;
    const limits = await Promise.all(
      ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'].map((p) => readFile(p, 'utf8').then((t) => Number(t.trim())).catch(() => NaN)),
    );
    return Math.min(total, ...limits.filter((n) => Number.isFinite(n) && n > 0));
  }

  readConfig() {
    return readFile(CONFIG_FILE, 'utf8').catch(() => undefined);
  }

  async writeConfig(text: string) {
    await writeIfChanged(CONFIG_FILE, text);
  }

  isRunning() {
    return isActive('mariadb');
  }

  async restart() {
    try {
      await sh(['systemctl', 'restart', 'mariadb']);
    } catch (e) {
      const journal = await sh(['journalctl', '-u', 'mariadb', '-n', '8', '--no-pager', '-o', 'cat']).catch(() => '');
      const reason = journal.split('\n').filter((l) => /\[ERROR\]/.test(l)).map((l) => l.replace(/^.*\[ERROR\]\s*/, '')).join('; ');
      throw new Error(reason || (e instanceof Error ? e.message : String(e)));
    }
  }

  async setGlobal(name: string, value: string | null) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not a variable name: ${name}`);
    // Numeric variables refuse quoted values.
    const expr = value === null ? 'DEFAULT' : /^\d+$/.test(value) ? value : literal(value);
    await this.sql(`SET GLOBAL ${name} = ${expr}`);
  }

  async ensureDatabase(name: string) {
    await this.sql(`CREATE DATABASE IF NOT EXISTS ${ident(name)} CHARACTER SET utf8mb4`);
  }

  async ensureUser(user: string, password: string, grant: Grant) {
    await this.sql(userStatements(user, password, grant).join(';\n'));
  }

  async dropUser(user: string) {
    // DROP USER leaves open sessions working; end them too.
    const ids = await this.sql(`SELECT id FROM information_schema.PROCESSLIST WHERE USER = ${literal(user)}`);
    for (const id of ids.split('\n').filter((l) => /^\d+$/.test(l))) await this.sql(`KILL CONNECTION ${id}`).catch(() => undefined);
    await this.sql(`DROP USER IF EXISTS ${account(user)}`);
  }

  async backup() {
    const databases = (await this.sql('SHOW DATABASES')).split('\n').filter((d) => d !== '' && !SYSTEM_SCHEMAS.has(d));
    if (databases.length === 0) throw new Error('there is no application database to back up');
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const path = `${BACKUP_DIR}/mariadb-${stamp}.sql`;
    await sh(['mariadb-dump', '--single-transaction', '--routines', '--triggers', '--events', '--add-drop-database', `--result-file=${path}`, '--databases', ...databases]);
    return { path, databases };
  }

  async restore(path: string) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`${path} is not a file on this unit: copy the dump here first (sigil scp <dump> <unit>:${path})`);
    const head = await open(path).then(async (f) => {
      const { buffer, bytesRead } = await f.read(Buffer.alloc(512), 0, 512, 0).finally(() => f.close());
      return buffer.subarray(0, bytesRead).toString('utf8');
    });
    if (!/(MariaDB|MySQL) dump/.test(head)) throw new Error(`${path} does not look like a mariadb-dump file (made by the backup action)`);
    await sh(['sh', '-c', 'exec mariadb < "$1"', 'restore', path]);
  }

  /** Runs SQL as root over the local socket; returns the rows, tab-separated. */
  private async sql(statement: string): Promise<string> {
    try {
      return (await sh(['mariadb', '--protocol=socket', '-N', '-B'], { input: statement })).trim();
    } catch (e) {
      if (e instanceof CommandError) throw new Error(`SQL failed: ${e.stderr.trim() || e.message}`);
      throw e;
    }
  }
}

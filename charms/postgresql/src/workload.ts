/**
 * What the charm does to its machine: the Debian postgresql package, the 15/main cluster
 * under systemd, its configuration files, SQL as the postgres superuser, pg_dump and
 * pg_restore. The charm's decisions live in charm.ts; this file only does.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import type { Extension } from './clients.ts';
import { parse } from './settings.ts';

/** Debian 12 ships PostgreSQL 15. */
export const PG_MAJOR = '15';
export const SERVICE = `postgresql@${PG_MAJOR}-main`;
const CONF_DIR = `/etc/postgresql/${PG_MAJOR}/main`;
const DATA_DIR = `/var/lib/postgresql/${PG_MAJOR}/main`;
const BIN = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
const SETTINGS = `${CONF_DIR}/conf.d/50-sigil.conf`;
const LOG = `/var/log/postgresql/postgresql-${PG_MAJOR}-main.log`;
export const BACKUPS = '/var/backups/postgresql';

export interface ClientSetup {
  user: string;
  password: string;
  superuser: boolean;
  database: string;
  roles: readonly string[];
  extensions: readonly Extension[];
}

export interface Workload {
  install(): Promise<void>;
  /** The server's version, e.g. "15.10". */
  version(): Promise<string>;
  isRunning(): Promise<boolean>;
  /** Waits (up to a minute) until the server accepts connections at host:port. */
  ready(host: string, port: number): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Restarts the server; rejects with PostgreSQL's own reason when it does not come back. */
  restart(): Promise<void>;
  reload(): Promise<void>;
  /** The charm's settings file as applied (undefined before the first config-changed). */
  readSettings(): Promise<string | undefined>;
  writeSettings(text: string): Promise<void>;
  /** PostgreSQL's verdict on one setting without applying it: its error message, or undefined. */
  checkSetting(name: string, value: string): Promise<string | undefined>;
  /** Writes pg_hba.conf; resolves whether it changed. */
  writeHba(text: string): Promise<boolean>;
  availableExtensions(): Promise<string[]>;
  /** Creates or updates a client's role (with login and this password) and database. */
  ensureClient(c: ClientSetup): Promise<void>;
  /** Roles that may log in. */
  loginRoles(): Promise<string[]>;
  /** Takes login, password and superuser away from a role and ends its sessions; its objects stay. */
  revoke(role: string): Promise<void>;
  backup(database: string | undefined): Promise<{ path: string; databases: string[] }>;
  restore(path: string): Promise<string[]>;
}

/** PostgreSQL's messages of these levels from its log output, without the line prefixes. */
function messages(log: string, levels: readonly string[]): string {
  const re = new RegExp(`^.*?\\b(${levels.join('|')}):\\s+(.*)$`);
  return log
    .split('\n')
    .map((l) => re.exec(l))
    .filter((m) => m !== null)
    .slice(0, 3)
    .map((m) => m[2]!.trim())
    .join(' ');
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

export class SystemWorkload implements Workload {
  async install(): Promise<void> {
    await aptInstall(['postgresql']);
    // postgresql-common creates and starts 15/main on install; a machine where it was
    // dropped gets it back.
    const clusters = await sh(['pg_lsclusters', '--no-header']);
    if (!clusters.split('\n').some((l) => l.startsWith(`${PG_MAJOR} `) && l.includes(' main '))) await sh(['pg_createcluster', PG_MAJOR, 'main', '--start']);
    await sh(['install', '-d', '-o', 'postgres', '-g', 'postgres', '-m', '0750', BACKUPS]);
    // The charm runs as root and connects as postgres over the socket (the `sigil` map in pg_hba.conf).
    await writeIfChanged(`${CONF_DIR}/pg_ident.conf`, '# Managed by the Sigil postgresql charm.\nsigil  root      postgres\nsigil  postgres  postgres\n');
  }

  async version(): Promise<string> {
    const out = await sh([`${BIN}/postgres`, '-V']);
    return /([0-9]+(?:\.[0-9]+)*)/.exec(out)?.[1] ?? PG_MAJOR;
  }

  isRunning(): Promise<boolean> {
    return isActive(SERVICE);
  }

  async ready(host: string, port: number): Promise<boolean> {
    // The unit is active before the cluster listens on the machine's address (a restart
    // for listen_addresses, a slow first start): clients must not get credentials earlier.
    for (let i = 0; i < 60; i++) {
      if (await sh([`${BIN}/pg_isready`, '-q', '-h', host, '-p', String(port), '-t', '2']).then(() => true, () => false)) return true;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return false;
  }

  async start(): Promise<void> {
    await systemctl('enable', SERVICE);
    await systemctl('start', SERVICE);
  }

  async stop(): Promise<void> {
    await systemctl('stop', SERVICE);
  }

  async restart(): Promise<void> {
    const mark = await this.logSize();
    try {
      await systemctl('restart', SERVICE);
    } catch (e) {
      const why = await this.logSince(mark);
      throw new Error(why || (e instanceof Error ? e.message : String(e)));
    }
  }

  async reload(): Promise<void> {
    await systemctl('reload', SERVICE);
  }

  readSettings(): Promise<string | undefined> {
    return readFile(SETTINGS, 'utf8').catch(() => undefined);
  }

  async writeSettings(text: string): Promise<void> {
    await writeIfChanged(SETTINGS, text);
  }

  async checkSetting(name: string, value: string): Promise<string | undefined> {
    // `postgres -C` loads the configuration with this value and prints it without starting a
    // server, so PostgreSQL's own parser judges the value while the running server is untouched.
    const argv = ['runuser', '-u', 'postgres', '--', `${BIN}/postgres`, '-D', DATA_DIR, '-c', `config_file=${CONF_DIR}/postgresql.conf`, '-c', `${name}=${value}`, '-C', name];
    try {
      await sh(argv, { cwd: '/tmp' });
      return undefined;
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      return messages(e.stderr, ['FATAL', 'ERROR', 'DETAIL', 'HINT']) || `postgres -C exited ${e.code}`;
    }
  }

  async writeHba(text: string): Promise<boolean> {
    return writeIfChanged(`${CONF_DIR}/pg_hba.conf`, text, { mode: 0o640, uid: await this.uid(), gid: await this.gid() });
  }

  async availableExtensions(): Promise<string[]> {
    return (await this.sql('SELECT name FROM pg_available_extensions ORDER BY 1')).split('\n').filter((l) => l !== '');
  }

  async ensureClient(c: ClientSetup): Promise<void> {
    const u = ident(c.user);
    const lines = [
      `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(c.user)}) THEN CREATE ROLE ${u}; END IF; END$$;`,
      `ALTER ROLE ${u} WITH LOGIN ${c.superuser ? 'SUPERUSER' : 'NOSUPERUSER'} PASSWORD ${literal(c.password)};`,
      ...c.roles.flatMap((r) => [
        `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(r)}) THEN CREATE ROLE ${ident(r)} NOLOGIN INHERIT; END IF; END$$;`,
        `GRANT ${ident(r)} TO ${u};`,
      ]),
      `SELECT 'CREATE DATABASE ' || quote_ident(${literal(c.database)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(c.database)}) \\gexec`,
      `GRANT ALL ON DATABASE ${ident(c.database)} TO ${u};`,
    ];
    await this.sql(lines.join('\n'));
    // PostgreSQL 15 no longer lets every role create in the public schema.
    const inDb = [
      `GRANT ALL ON SCHEMA public TO ${u};`,
      ...c.extensions.flatMap((e) => [
        ...(e.schema === 'public' ? [] : [`CREATE SCHEMA IF NOT EXISTS ${ident(e.schema)};`, `GRANT USAGE ON SCHEMA ${ident(e.schema)} TO PUBLIC;`]),
        `CREATE EXTENSION IF NOT EXISTS ${ident(e.name)} WITH SCHEMA ${ident(e.schema)};`,
      ]),
    ];
    await this.sql(inDb.join('\n'), c.database);
  }

  async loginRoles(): Promise<string[]> {
    return (await this.sql('SELECT rolname FROM pg_roles WHERE rolcanlogin ORDER BY 1')).split('\n').filter((l) => l !== '');
  }

  async revoke(role: string): Promise<void> {
    await this.sql(
      [
        `ALTER ROLE ${ident(role)} WITH NOLOGIN NOSUPERUSER PASSWORD NULL;`,
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = ${literal(role)};`,
      ].join('\n'),
    );
  }

  async backup(database: string | undefined): Promise<{ path: string; databases: string[] }> {
    const all = (await this.sql("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1")).split('\n').filter((l) => l !== '');
    if (database !== undefined && !all.includes(database)) throw new Error(`database "${database}" does not exist; databases: ${all.join(', ') || '(none but postgres)'}`);
    const databases = database !== undefined ? [database] : all;
    if (databases.length === 0) throw new Error('there is no database to back up (postgres and the templates are skipped)');
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const file = (db: string) => `${encodeURIComponent(db)}.dump`;
    const dir = database !== undefined ? BACKUPS : join(BACKUPS, `all-${stamp}`);
    await sh(['install', '-d', '-o', 'postgres', '-g', 'postgres', '-m', '0750', dir]);
    const path = database !== undefined ? join(dir, `${encodeURIComponent(database)}-${stamp}.dump`) : dir;
    // Uncompressed: dumps go to a deduplicating store (restic compresses what it keeps), and a
    // compressed dump differs throughout after any change, so nothing of it would dedup.
    for (const db of databases) {
      await sh(['pg_dump', '-U', 'postgres', '-p', await this.port(), '--format=custom', '--compress=0', '--create', '-f', database !== undefined ? path : join(dir, file(db)), db]);
    }
    return { path, databases };
  }

  async restore(path: string): Promise<string[]> {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`${path} does not exist on this unit; copy the dump here first (sigil scp)`);
    const files = info.isDirectory() ? (await readdir(path)).filter((f) => f.endsWith('.dump')).sort().map((f) => join(path, f)) : [path];
    if (files.length === 0) throw new Error(`${path} holds no .dump files`);
    const restored: string[] = [];
    for (const f of files) restored.push(await this.restoreOne(f));
    return restored;
  }

  private async restoreOne(file: string): Promise<string> {
    const toc = await sh(['pg_restore', '-l', file]).catch((e: unknown) => {
      throw new Error(`${file} is not a pg_dump custom-format archive: ${e instanceof Error ? e.message : String(e)}`);
    });
    const db = /^;\s+dbname: (.*)$/m.exec(toc)?.[1];
    if (!db) throw new Error(`${file} names no database (make it with the backup action)`);
    // Owners and grantees must exist for pg_restore to keep ownership and privileges; a
    // role created here has no login until a relation with its application gives it one.
    const schema = await sh(['pg_restore', '--schema-only', '--create', '-f', '-', file]);
    const roles = new Set<string>();
    for (const m of schema.matchAll(/(?:OWNER TO|GRANT [^;]*? TO) ("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)/g)) {
      const r = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!.toLowerCase();
      if (r !== 'public') roles.add(r);
    }
    const create = [...roles].map((r) => `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(r)}) THEN CREATE ROLE ${ident(r)} NOLOGIN; END IF; END$$;`);
    await this.sql([...create, `DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE);`].join('\n'));
    await sh(['pg_restore', '-U', 'postgres', '-p', await this.port(), '--create', '--exit-on-error', '-d', 'postgres', file]);
    return db;
  }

  /** Runs SQL as postgres over the local socket; resolves with psql's unaligned output. */
  private async sql(text: string, database = 'postgres'): Promise<string> {
    return sh(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres', '-p', await this.port(), '-d', database], { input: text });
  }

  private async port(): Promise<string> {
    return parse(await this.readSettings()).port ?? '5432';
  }

  private async uid(): Promise<number> {
    return Number((await sh(['id', '-u', 'postgres'])).trim());
  }

  private async gid(): Promise<number> {
    return Number((await sh(['id', '-g', 'postgres'])).trim());
  }

  private async logSize(): Promise<number> {
    return (await stat(LOG).catch(() => undefined))?.size ?? 0;
  }

  /** The FATAL/PANIC lines PostgreSQL logged since `mark` (why it did not start). */
  private async logSince(mark: number): Promise<string> {
    const text = await readFile(LOG, 'utf8').catch(() => '');
    return messages(text.slice(mark), ['FATAL', 'PANIC', 'DETAIL']);
  }
}

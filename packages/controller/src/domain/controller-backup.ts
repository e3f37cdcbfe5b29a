import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import type { BackupInfo, BackupSummary } from '@sigil/api';
import { lxcProviderRoot } from '@sigil/providers';
import { packBackup, type BackupFile } from '@sigil/core/backup-archive';
import type { Store } from '../store/store.ts';
import { PG_DUMP_FILE, STORE_PASSWORD_FILE, storeConnection, type StoreConfig } from '../store/open.ts';
import type { PgConnection } from '../store/pg/bridge.ts';
import { runPgTool } from '../store/pg/tools.ts';


/** Files beside the database that a controller cannot run without (the database is snapshotted). */
const FILES: [string, number][] = [['controller.json', 0o600], ['secrets.key', 0o600], ['tls/ca.crt', 0o644], ['tls/ca.key', 0o600], ['tls/server.crt', 0o644], ['tls/server.key', 0o600], ['ssh/id_ed25519', 0o600], ['ssh/id_ed25519.pub', 0o644], ['backup-store.password', 0o600], [STORE_PASSWORD_FILE, 0o600]];
const NAME = /^sigil-backup-[a-z0-9-]+-\d{8}T\d{6}Z(-\d+)?\.tar\.gz$/;

/**
 * Controller backups (issue 18): a consistent snapshot taken while the controller runs. The
 * database is copied with SQLite's online backup API (pages copied in steps; writers are not
 * blocked and the copy is of one committed state), the CA, keys and the secrets key are read
 * beside it; charm archives are blobs in the database, so they come with it. Archives are
 * kept in `<dir>/backups` (0700; each archive 0600: it holds every secret of the controller).
 */
export class ControllerBackups {
  constructor(
    private readonly store: Store,
    private readonly dir: string,
    private readonly controller: string,
    private readonly provider: string,
  ) {}

  private storeConnection(): PgConnection {
    const config = JSON.parse(readFileSync(join(this.dir, 'controller.json'), 'utf8')) as { store: StoreConfig };
    return storeConnection(this.dir, config.store);
  }

  private get backupsDir(): string {
    return join(this.dir, 'backups');
  }

  async create(now = new Date()): Promise<BackupInfo> {
    mkdirSync(this.backupsDir, { recursive: true, mode: 0o700 });
    chmodSync(this.backupsDir, 0o700);
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let name = `sigil-backup-${this.controller}-${stamp}.tar.gz`;
    for (let i = 2; existsSync(join(this.backupsDir, name)); i++) name = `sigil-backup-${this.controller}-${stamp}-${i}.tar.gz`;
    const snapshot = join(this.backupsDir, `.${name}.db`);
    try {
      const revision = this.store.revision();
      // SQLite's online backup, or pg_dump of the PostgreSQL store (one consistent snapshot
      // of its own); the restored controller loads a dump into its store when it starts.
      let database: BackupFile;
      if (await this.store.backupTo(snapshot)) {
        database = { path: 'state.db', mode: 0o600, data: readFileSync(snapshot) };
      } else {
        database = { path: PG_DUMP_FILE, mode: 0o600, data: await runPgTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges'], this.storeConnection()) };
      }
      const files: BackupFile[] = [database];
      for (const [path, mode] of FILES) {
        const full = join(this.dir, path);
        if (!existsSync(full)) continue;
        let data = readFileSync(full);
        // Machines are directories (local-process) or containers (lxc) on this host: a
        // controller restored into another SIGIL_HOME goes on managing them where they are.
        if (path === 'controller.json') data = Buffer.from(JSON.stringify(withMachinesWhereTheyAre(JSON.parse(data.toString('utf8')) as MachinesAt, this.provider, this.dir), null, 2));
        files.push({ path, mode, data });
      }
      const { archive, manifest } = packBackup({ controller: this.controller, provider: this.provider, created: now.toISOString(), revision }, files);
      writeFileSync(join(this.backupsDir, name), archive, { mode: 0o600, flag: 'wx' });
      return { name, size: archive.length, sha256: sha(archive), created: manifest.created, revision };
    } finally {
      rmSync(snapshot, { force: true });
    }
  }

  list(): BackupSummary[] {
    if (!existsSync(this.backupsDir)) return [];
    return readdirSync(this.backupsDir)
      .filter((n) => NAME.test(n))
      .sort()
      .map((name) => {
        const st = statSync(join(this.backupsDir, name));
        const created = /-(\d{8}T\d{6}Z)/.exec(name)![1]!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
        return { name, size: st.size, created };
      });
  }

  /** The archive's bytes; the name must be one this controller wrote (no paths). */
  read(name: string): Buffer {
    if (!NAME.test(name) || !existsSync(join(this.backupsDir, name))) {
      throw new SigilError('not-found', `backup "${name.slice(0, 200)}" not found on this controller`, 'see `sigil backups`');
    }
    return readFileSync(join(this.backupsDir, name));
  }
}

/** Where a controller's machines live, recorded only in backups (absent: inside its directory). */
interface MachinesAt {
  machinesRoot?: string;
  providerRoot?: string;
}

function withMachinesWhereTheyAre(config: MachinesAt, provider: string, dir: string): MachinesAt {
  if (provider === 'local-process') return { ...config, machinesRoot: config.machinesRoot ?? join(dir, 'machines') };
  if (provider === 'lxc') return { ...config, providerRoot: lxcProviderRoot(dir, config) };
  return config;
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

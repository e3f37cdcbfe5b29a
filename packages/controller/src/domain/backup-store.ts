import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { BackupStoreRepository, type SnapshotRecord, type StoreConfig, type StoreKind } from '../state/backup-store.ts';

export type { StoreConfig, StoreKind } from '../state/backup-store.ts';

export interface Snapshot {
  id: string;
  model: string;
  schedule: string;
  unit: string;
  app: string;
  'source-path': string;
  store: StoreKind;
  bytes: number;
  /** Bytes this snapshot added to the store (restic's deduplicated figure; all of it for a local directory). */
  added: number;
  created: string;
}

/** The restic repository's password: a 0600 file in the controller's directory, never in the database or on a command line. */
export const PASSWORD_FILE = 'backup-store.password';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 127 : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const lastLine = (t: string) => t.trim().split('\n').pop()?.slice(0, 300) ?? '';

/**
 * Where artifacts copied off units are kept: a local directory, or a restic repository
 * (Debian's restic; a local path, or sftp:host:/path for an enlisted host). One store per
 * controller. Configuring it checks it first (the directory is writable; the restic
 * repository opens with the password, or is created when empty) and changes nothing when
 * that fails.
 */
export class BackupStore {
  private readonly repo: BackupStoreRepository;

  constructor(
    s: Store,
    private readonly dir: string,
  ) {
    this.repo = new BackupStoreRepository(s);
  }

  config(): StoreConfig | undefined {
    return this.repo.config();
  }

  private env(passwordFile = join(this.dir, PASSWORD_FILE), location = this.config()?.location ?? ''): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, RESTIC_REPOSITORY: location, RESTIC_PASSWORD_FILE: passwordFile, RESTIC_CACHE_DIR: join(this.dir, 'restic-cache'), LANG: 'C.UTF-8' };
  }

  /**
   * restic's ssh for an `sftp:[USER@]HOST:/PATH` repository: the controller's own key (the
   * one its machines authorise), never a password prompt, and the host key kept in the
   * controller's known_hosts (trusted on first use, a changed one refused).
   */
  private sftp(location = this.config()?.location ?? ''): string[] {
    const m = /^sftp:([^\s:]+):\//.exec(location);
    if (!m) return [];
    const ssh = join(this.dir, 'ssh');
    return ['-o', `sftp.command=ssh -i ${join(ssh, 'id_ed25519')} -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${join(ssh, 'known_hosts')} ${m[1]} -s sftp`];
  }

  async configure(kind: string, location: string, password: string | undefined): Promise<StoreConfig> {
    if (kind === 'local') {
      if (!isAbsolute(location) || posix.normalize(location) !== location) throw new SigilError('bad-request', `"${location.slice(0, 200)}" is not a clean absolute path`, 'give --local /srv/sigil-backups');
      mkdirSync(location, { recursive: true, mode: 0o700 });
      const probe = join(location, `.sigil-probe-${randomBytes(4).toString('hex')}`);
      writeFileSync(probe, '');
      rmSync(probe);
    } else if (kind === 'restic') {
      if (!(isAbsolute(location) && posix.normalize(location) === location) && !/^sftp:[^\s]+:\/[^\s]*$/.test(location)) {
        throw new SigilError('bad-request', `"${location.slice(0, 200)}" is not a restic repository this controller can reach`, 'give --restic /srv/restic-repo (a local path) or --restic sftp:host:/path');
      }
      if (!password) throw new SigilError('bad-request', 'a restic repository needs a password', 'give --password-file FILE (or set SIGIL_RESTIC_PASSWORD); it is never taken from the command line');
      if ((await run('restic', ['version'], this.env())).code === 127) throw new SigilError('unavailable', 'restic is not installed on the controller host', 'apt-get install restic');
      // sftp: the controller logs in with its own key (an LXC controller has one from
      // bootstrap; a local-process one gets it here, once).
      if (location.startsWith('sftp:') && !existsSync(join(this.dir, 'ssh', 'id_ed25519'))) {
        mkdirSync(join(this.dir, 'ssh'), { recursive: true, mode: 0o700 });
        const made = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sigil-controller', '-f', join(this.dir, 'ssh', 'id_ed25519')], this.env());
        if (made.code !== 0) throw new SigilError('unavailable', `cannot make the controller's ssh key: ${lastLine(made.stderr)}`, 'install openssh-client on the controller host');
      }
      const tmp = join(this.dir, `.${PASSWORD_FILE}.${process.pid}.tmp`);
      writeFileSync(tmp, password, { mode: 0o600 });
      try {
        const env = this.env(tmp, location);
        const opened = await run('restic', [...this.sftp(location), 'cat', 'config', '--no-lock'], env);
        if (opened.code !== 0) {
          if (/wrong password|no key found/i.test(opened.stderr)) {
            throw new SigilError('unauthorized', `restic repository ${location} does not open with this password`, 'give the password the repository was created with (--password-file); nothing was changed');
          }
          const empty = !location.startsWith('sftp:') && (!existsSync(location) || readdirSync(location).length === 0);
          if (!empty && !/does not exist|unable to open config file|Is there a repository/i.test(opened.stderr)) {
            if (location.startsWith('sftp:') && /ssh command exited|unable to start the sftp session|Permission denied|Connection refused|Host key verification failed|Could not resolve/i.test(opened.stderr)) {
              throw new SigilError('unavailable', `restic cannot reach ${location} over ssh: ${lastLine(opened.stderr)}`, `the controller logs in with its own key: add ${join(this.dir, 'ssh', 'id_ed25519.pub')} to that user's authorized_keys on the host; nothing was changed`);
            }
            throw new SigilError('unavailable', `restic cannot open ${location}: ${lastLine(opened.stderr)}`, 'check the path (or host) and that it is a restic repository');
          }
          const init = await run('restic', [...this.sftp(location), 'init'], env);
          if (init.code !== 0) throw new SigilError('unavailable', `restic cannot create a repository at ${location}: ${lastLine(init.stderr)}`, 'check the path is writable');
        }
        renameSync(tmp, join(this.dir, PASSWORD_FILE));
      } finally {
        rmSync(tmp, { force: true });
      }
    } else {
      throw new SigilError('bad-request', `backup store kind "${kind.slice(0, 40)}" is not known`, 'use --local DIR or --restic REPO');
    }
    this.repo.setConfig({ kind, location }, Date.now());
    return { kind, location };
  }

  private must(): StoreConfig {
    const c = this.config();
    if (!c) throw new SigilError('conflict', 'no backup store is configured', 'configure one: sigil backup-store --local DIR, or --restic REPO --password-file FILE');
    return c;
  }

  /** Keeps `staged` (a file or directory copied off `unit`) and records it as a snapshot. */
  async put(o: { model: string; schedule: string; unit: string; app: string; sourcePath: string; staged: string }): Promise<Snapshot> {
    const c = this.must();
    const now = Date.now();
    const bytes = size(o.staged);
    let id: string;
    let ref: string;
    let added = bytes;
    if (c.kind === 'local') {
      id = `${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${randomBytes(2).toString('hex')}`;
      const dest = join(c.location, o.model, o.app, id);
      mkdirSync(dest, { recursive: true, mode: 0o700 });
      cpSync(o.staged, join(dest, o.staged.split('/').pop()!), { recursive: true });
      ref = join(dest, o.staged.split('/').pop()!);
    } else {
      const r = await run('restic', [...this.sftp(), 'backup', '--json', '--host', `sigil-${o.model}`, '--tag', 'sigil', '--tag', `model=${o.model}`, '--tag', `app=${o.app}`, '--tag', `schedule=${o.schedule}`, o.staged], this.env());
      if (r.code !== 0) throw new SigilError('unavailable', `restic backup failed: ${lastLine(r.stderr)}`, 'check the repository (`restic check`) and the password file');
      const summary = r.stdout.trim().split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } }).find((m) => m.message_type === 'summary');
      if (!summary || typeof summary.snapshot_id !== 'string') throw new SigilError('internal', 'restic backup printed no summary');
      id = summary.snapshot_id.slice(0, 8);
      added = Number(summary.data_added ?? 0);
      ref = JSON.stringify({ snapshot: summary.snapshot_id, path: o.staged });
    }
    this.repo.addSnapshot({ id, model: o.model, schedule: o.schedule, unit: o.unit, app: o.app, sourcePath: o.sourcePath, storeKind: c.kind, ref, bytes, added, created: now });
    return this.get(o.model, id)!;
  }

  list(model: string): Snapshot[] {
    return this.repo.snapshots(model).map(toSnapshot);
  }

  get(model: string, id: string): Snapshot | undefined {
    const r = this.repo.snapshot(model, id);
    return r ? toSnapshot(r) : undefined;
  }

  /** Drops the schedule's snapshots beyond the newest `keep`, from the store and the records. */
  async prune(model: string, schedule: string, keep: number): Promise<number> {
    const old = this.repo.scheduleSnapshots(model, schedule).slice(keep);
    if (old.length === 0) return 0;
    const resticIds: string[] = [];
    for (const o of old) {
      if (o.storeKind === 'local') rmSync(join(o.ref, '..'), { recursive: true, force: true });
      else resticIds.push((JSON.parse(o.ref) as { snapshot: string }).snapshot);
    }
    if (resticIds.length > 0) {
      const r = await run('restic', [...this.sftp(), 'forget', '--prune', ...resticIds], this.env());
      if (r.code !== 0) throw new SigilError('unavailable', `restic forget failed: ${lastLine(r.stderr)}`);
    }
    for (const o of old) this.repo.deleteSnapshot(model, o.id);
    return old.length;
  }

  /** Brings a snapshot's content back onto the host under `target`; returns its path there. */
  async fetch(model: string, id: string, target: string): Promise<string> {
    const r = this.repo.snapshotRef(model, id);
    if (!r) throw new SigilError('not-found', `snapshot "${id.slice(0, 80)}" not found in model ${model}`, 'see `sigil backups --snapshots`');
    const { ref } = r;
    mkdirSync(target, { recursive: true, mode: 0o700 });
    if (r.storeKind === 'local') {
      const name = ref.split('/').pop()!;
      cpSync(ref, join(target, name), { recursive: true });
      return join(target, name);
    }
    const { snapshot, path } = JSON.parse(ref) as { snapshot: string; path: string };
    const out = await run('restic', [...this.sftp(), 'restore', snapshot, '--target', target], this.env());
    if (out.code !== 0) throw new SigilError('unavailable', `restic restore failed: ${lastLine(out.stderr)}`, 'check the repository and its password file');
    return join(target, path);
  }
}

function toSnapshot(r: SnapshotRecord): Snapshot {
  return { id: r.id, model: r.model, schedule: r.schedule, unit: r.unit, app: r.app, 'source-path': r.sourcePath, store: r.storeKind, bytes: r.bytes, added: r.added, created: new Date(r.created).toISOString() };
}

function size(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0);
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * A throwaway PostgreSQL cluster (Debian's `postgresql` binaries) in a temporary directory,
 * listening on loopback only, with a password (scram) for its superuser: what the tests of
 * the PostgreSQL store and of controller replicas run against. Started and stopped by them.
 */
export interface Cluster {
  /** postgresql://sigil@127.0.0.1:PORT/postgres (no password in it). */
  url(database?: string): string;
  password: string;
  dataDir: string;
  port: number;
  pid: number;
  /** Stops the server (fast shutdown) but keeps its data: `start` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  destroy(): Promise<void>;
}

/** The directory of Debian's PostgreSQL server binaries (the newest version installed). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, the cluster runs as Debian's `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `listen`: more addresses of this host to listen on (a test bridge's, for replicas on other
 * hosts), each admitting its /24 with a password.
 */
export async function startCluster(opts: { durable?: boolean; listen?: string[] } = {}): Promise<Cluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed; hint: apt-get install postgresql (scripts/setup.sh does)');
  const user = runAs();
  const root = mkdtempSync(join(tmpdir(), 'sigil-pg-'));
  const dataDir = join(root, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (user) {
    chownSync(root, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  chmodSync(root, 0o700);
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'sigil', '--pwfile', pwfile, '-A', 'scram-sha-256', '--locale=C', '-E', 'UTF8', '--no-instructions'], { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
  rmSync(pwfile);
  for (const a of opts.listen ?? []) appendFileSync(join(dataDir, 'pg_hba.conf'), `host all all ${a.replace(/\.\d+$/, '.0')}/24 scram-sha-256\n`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = ['-D', dataDir, '-p', String(port), '-c', `listen_addresses=${['127.0.0.1', ...(opts.listen ?? [])].join(',')}`, '-c', `unix_socket_directories=${root}`, '-c', 'max_connections=200'];
  // Unit tests need no durability across a crash of the machine; the replica tests keep it.
  if (!opts.durable) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const cluster: Cluster = {
    url: (database = 'postgres') => `postgresql://sigil@127.0.0.1:${port}/${database}`,
    password,
    dataDir,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    start: async () => {
      child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${stderr}`);
        try {
          execFileSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
          return;
        } catch {
          if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    stop: async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGINT');
      await gone;
    },
    destroy: async () => {
      await cluster.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}

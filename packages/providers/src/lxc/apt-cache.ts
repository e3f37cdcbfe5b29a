import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import { CLEAN_ENV } from './run.ts';
import { isAlive } from '../process.ts';
import { publishToPool, seedFromPool } from './apt-pool.ts';

export interface AptCacheOptions {
  /** Holds conf/, log/, the pid file and, unless cacheDir is given, cache/. */
  dir: string;
  cacheDir?: string;
  /** The bridge address: the cache is reachable from machines and the host only. */
  bindAddress: string;
  port?: number;
  /** The Debian archive the cache fetches from. */
  backend?: string;
  /**
   * The packages shared by every cache on the host (apt-pool.ts): the cache starts with
   * them, and gives them what it fetched.
   */
  pool?: string;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * apt-cacher-ng on the bridge address: machines keep an isolated network (no route, no
 * DNS) and still install packages, and a package is fetched from the archive once per
 * host. Runs detached, so it outlives a controller restart, as machines do.
 */
export class AptCache {
  readonly port: number;
  private readonly cacheDir: string;

  constructor(private readonly o: AptCacheOptions) {
    this.port = o.port ?? 3142;
    this.cacheDir = o.cacheDir ?? join(o.dir, 'cache');
  }

  /** What machines put in `Acquire::http::Proxy`. */
  get url(): string {
    return `http://${this.o.bindAddress}:${this.port}`;
  }

  private get pidFile(): string {
    return join(this.o.dir, 'apt-cacher-ng.pid');
  }

  /** Starts the cache unless it already runs; resolves once it accepts connections. */
  async start(): Promise<void> {
    if ((await this.pid()) !== undefined && (await this.answers())) return;
    await this.stop();
    const conf = join(this.o.dir, 'conf');
    for (const d of [conf, this.cacheDir, join(this.o.dir, 'log')]) await mkdir(d, { recursive: true, mode: 0o755 });
    if (this.o.pool) {
      // Before the daemon runs: it never sees a package half placed.
      const seeded = await seedFromPool(this.o.pool, this.cacheDir).catch((e: unknown) => (this.o.log?.('cannot seed the apt cache from the host\'s packages', { pool: this.o.pool, error: (e as Error).message }), undefined));
      if (seeded && seeded.files > 0) this.o.log?.('apt cache seeded from the host\'s packages', { pool: this.o.pool, ...seeded });
    }
    // Without a backend for /debian, every fetch fails with "503 Host not found".
    await writeFile(join(conf, 'backends_debian'), `${this.o.backend ?? 'http://deb.debian.org/debian/'}\n`);
    await writeFile(join(conf, 'acng.conf'), ACNG_CONF);
    const out = await open(join(this.o.dir, 'log', 'apt-cacher-ng.out'), 'a');
    const child = spawn('apt-cacher-ng', [
      '-c', conf, 'ForeGround=1', `BindAddress=${this.o.bindAddress}`, `Port=${this.port}`,
      `CacheDir=${this.cacheDir}`, `LogDir=${join(this.o.dir, 'log')}`, `SocketPath=${join(this.o.dir, 'socket')}`,
    ], { detached: true, stdio: ['ignore', out.fd, out.fd], env: CLEAN_ENV });
    child.unref();
    await out.close();
    if (child.pid === undefined) throw new SigilError('unavailable', 'apt-cacher-ng did not start', 'is the apt-cacher-ng package installed?');
    await writeFile(this.pidFile, String(child.pid));
    const deadline = Date.now() + 10_000;
    while (!(await this.answers())) {
      if ((await this.pid()) === undefined || Date.now() > deadline) {
        const tail = (await readFile(join(this.o.dir, 'log', 'apt-cacher-ng.out'), 'utf8').catch(() => '')).split('\n').slice(-5).join('\n');
        throw new SigilError('unavailable', `apt-cacher-ng did not come up on ${this.url}`, tail);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the cache started from this directory (by its pid file), giving the host's pool what it fetched; idempotent. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(this.pidFile, { force: true });
    await rm(join(this.o.dir, 'socket'), { force: true });
    await this.publish();
  }

  /** Gives the host's pool the complete packages this cache fetched; never throws (the pool is an optimisation). */
  async publish(): Promise<void> {
    if (!this.o.pool) return;
    try {
      const added = await publishToPool(this.cacheDir, this.o.pool);
      if (added.files > 0) this.o.log?.('apt packages shared with the host\'s other controllers', { pool: this.o.pool, ...added });
    } catch (e) {
      this.o.log?.('cannot share apt packages with the host\'s other controllers', { pool: this.o.pool, error: (e as Error).message });
    }
  }

  /**
   * While the daemon runs: gives the pool what this cache fetched, and takes what the host's
   * other controllers fetched meanwhile (each package appears whole, by rename; one being
   * fetched here is left alone). Never throws.
   */
  async sync(): Promise<void> {
    if (!this.o.pool) return;
    await this.publish();
    try {
      const seeded = await seedFromPool(this.o.pool, this.cacheDir);
      if (seeded.files > 0) this.o.log?.('apt cache given the host\'s other controllers\' packages', { pool: this.o.pool, ...seeded });
    } catch (e) {
      this.o.log?.('cannot seed the apt cache from the host\'s packages', { pool: this.o.pool, error: (e as Error).message });
    }
  }

  /** The pid of our running apt-cacher-ng, if any (a recycled pid is not taken for ours). */
  async pid(): Promise<number | undefined> {
    const n = Number((await readFile(this.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(n) || n <= 0 || !isAlive(n)) return undefined;
    const cmdline = await readFile(`/proc/${n}/cmdline`, 'utf8').catch(() => '');
    return cmdline.includes('apt-cacher-ng') ? n : undefined;
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: this.o.bindAddress, port: this.port, timeout: 500 });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.once('timeout', () => (s.destroy(), resolve(false)));
    });
  }
}

/**
 * The apt-cacher-ng a controller without a provider cache (local-process) runs for the hosts
 * it enlists, on loopback (the controller relays it to its api addresses), in the
 * controller's directory: the controller starts it, `destroy-controller` stops it.
 */
export function controllerAptCache(controllerDir: string, port = 0): AptCache {
  return new AptCache({ dir: join(controllerDir, 'apt-cache'), bindAddress: '127.0.0.1', port });
}

/** Debian only: the archive through backends_debian, the security archive directly. */
const ACNG_CONF = `# Written by Sigil; paths and the address are given on the command line.
SupportDir: /usr/lib/apt-cacher-ng
Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian
Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security
ReportPage: acng-report.html
ExThreshold: 4
FollowIndexFileRemoval: 1
`;

import { access, constants, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import { CLEAN_ENV, runOk } from './run.ts';

/** Debian packages the provider needs on the host, and a binary that proves each is there. */
export const HOST_PACKAGES: ReadonlyArray<{ pkg: string; binary: string }> = [
  { pkg: 'lxc', binary: 'lxc-start' },
  { pkg: 'mmdebstrap', binary: 'mmdebstrap' },
  { pkg: 'apt-cacher-ng', binary: 'apt-cacher-ng' },
  { pkg: 'iproute2', binary: 'ip' },
  { pkg: 'openssh-client', binary: 'ssh-keygen' },
];

/** What the README's set-up runs (iproute2 and openssh-client are on every Debian host). */
export const INSTALL_COMMAND = 'apt-get install -y lxc mmdebstrap apt-cacher-ng';

function installCommand(missing: readonly string[]): string {
  return `apt-get install -y ${missing.join(' ')}`;
}

export interface HostState {
  root: boolean;
  /** Packages whose binary is not on the PATH. */
  missing: string[];
}

async function onPath(binary: string): Promise<boolean> {
  for (const dir of (CLEAN_ENV.PATH ?? '').split(':')) {
    try {
      await access(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      /* try the next directory */
    }
  }
  return false;
}

export async function inspectHost(): Promise<HostState> {
  const missing: string[] = [];
  for (const p of HOST_PACKAGES) if (!(await onPath(p.binary))) missing.push(p.pkg);
  return { root: process.getuid?.() === 0, missing };
}

/**
 * Throws 'unavailable' when this host cannot run LXC machines and Sigil may not fix it:
 * the provider needs root (bridges, privileged containers), and without root it cannot
 * install what is missing either, so the message names the exact command to run.
 * Returns the state so a root caller can go on to `ensureHostPackages`.
 */
export async function checkHost(): Promise<HostState> {
  const s = await inspectHost();
  if (!s.root) {
    const install = s.missing.length > 0 ? `install the missing packages as root: \`${installCommand(s.missing)}\`, then ` : '';
    throw new SigilError(
      'unavailable',
      s.missing.length > 0
        ? `the lxc provider needs ${s.missing.join(', ')} on this host, and root to install and run them`
        : 'the lxc provider needs root (it creates a bridge and privileged containers)',
      `${install}run sigil as root, or use --provider local-process`,
    );
  }
  return s;
}

/**
 * Installs the host packages with apt-get when any is missing (root only). The host's
 * policy-rc.d keeps apt-cacher-ng and lxc-net from starting on their own; Sigil starts
 * the pieces it needs itself.
 */
export async function ensureHostPackages(onProgress: (line: string) => void = () => {}): Promise<HostState> {
  const s = await checkHost();
  if (s.missing.length === 0) return s;
  const env = { ...CLEAN_ENV, DEBIAN_FRONTEND: 'noninteractive' };
  onProgress(`installing ${s.missing.join(', ')} on the host`);
  await runOk('apt-get', ['update', '-q'], { env, onLine: onProgress });
  await runOk('apt-get', ['install', '-y', '-q', ...s.missing], { env, onLine: onProgress });
  const after = await inspectHost();
  if (after.missing.length > 0) {
    throw new SigilError('unavailable', `apt-get did not provide ${after.missing.join(', ')}`, `run \`${installCommand(after.missing)}\` by hand and read its errors`);
  }
  return after;
}

/**
 * Kernel limits LXC machines run into, and the least each needs. Every container's systemd
 * (and its services) takes inotify instances from the host's per-user pool, and Debian's
 * default of 128 instances holds about 16 containers: the next one's systemd fails with
 * "Failed to create inotify object: Too many open files" and never finishes booting. LXD's
 * production set-up raises the same limits.
 */
export const HOST_LIMITS: ReadonlyArray<{ key: string; least: number }> = [
  { key: 'fs.inotify.max_user_instances', least: 1024 },
  { key: 'fs.inotify.max_user_watches', least: 524288 },
];

/**
 * Raises the limits below their least (root only; a host that allows more keeps its own).
 * Lasts until the host reboots; the provider checks again at every controller start.
 */
export async function ensureHostLimits(onProgress: (line: string) => void = () => {}, procSys = '/proc/sys'): Promise<void> {
  for (const { key, least } of HOST_LIMITS) {
    const path = join(procSys, ...key.split('.'));
    const now = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (!Number.isFinite(now) || now === 0 || now >= least) continue;
    try {
      await writeFile(path, `${least}\n`);
      onProgress(`raised ${key} from ${now} to ${least} (each LXC machine's systemd needs its share)`);
    } catch (e) {
      throw new SigilError('unavailable', `${key} is ${now}, too low for more than a few LXC machines, and cannot be raised (${(e as Error).message})`, `run \`sysctl -w ${key}=${least}\` as root on the host (in a container: on its host)`);
    }
  }
}

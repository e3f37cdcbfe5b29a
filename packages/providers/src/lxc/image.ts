import { mkdir, open, readFile, readdir, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './run.ts';
import { isAlive } from '../process.ts';
import { ensureImageDigests } from './image-digests.ts';

/**
 * Bump when what the image contains changes (packages, fix-ups). The version is part of
 * the image's directory name, so a new Sigil builds a new image and never reuses one made
 * by an older release.
 */
export const IMAGE_VERSION = 1;
export const IMAGE_NAME = `debian-12-v${IMAGE_VERSION}`;

export const IMAGE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates', 'sudo', 'procps', 'python3', 'curl', 'lsb-release', 'apt-utils'];

export interface ImageOptions {
  /** Rebuild even when an image of this version exists. Stop the machines using it first. */
  force?: boolean;
  /** Where mmdebstrap fetches from (through the host's network). */
  mirror?: string;
  onProgress?: (line: string) => void;
}

export interface ImageResult {
  rootfs: string;
  built: boolean;
  ms: number;
}

/** The directory every machine overlays: `<imagesDir>/debian-12-v<IMAGE_VERSION>/rootfs`. */
export function imageRootfs(imagesDir: string): string {
  return join(imagesDir, IMAGE_NAME, 'rootfs');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * Returns the base image, building it first when it is missing. The build goes to a
 * temporary directory that is renamed into place only when complete, so a crash never
 * leaves a half image behind; a lock file makes concurrent callers (two controllers, a
 * controller and `sigil image build`) wait for one build instead of racing.
 */
export async function ensureImage(imagesDir: string, o: ImageOptions = {}): Promise<ImageResult> {
  const final = join(imagesDir, IMAGE_NAME);
  const ready = join(final, 'image.json');
  const started = Date.now();
  if (!o.force && (await exists(ready))) {
    // An image built before its files' digests were listed gets the list once.
    const listed = await ensureImageDigests(imageRootfs(imagesDir));
    if (listed) o.onProgress?.(`listed the digests of the image's ${listed.files} files in ${(listed.ms / 1000).toFixed(1)} s`);
    return { rootfs: imageRootfs(imagesDir), built: false, ms: Date.now() - started };
  }
  await mkdir(imagesDir, { recursive: true, mode: 0o755 });
  const release = await lock(join(imagesDir, `${IMAGE_NAME}.lock`), o.onProgress);
  try {
    // Someone else may have built it while we waited for the lock.
    if (!o.force && (await exists(ready))) return { rootfs: imageRootfs(imagesDir), built: false, ms: Date.now() - started };
    for (const f of await readdir(imagesDir)) {
      if (f.startsWith(`${IMAGE_NAME}.tmp-`) || f.startsWith(`${IMAGE_NAME}.old-`)) await removeStale(join(imagesDir, f));
    }
    const tmp = join(imagesDir, `${IMAGE_NAME}.tmp-${process.pid}`);
    await mkdir(tmp, { mode: 0o755 });
    await runOk('mmdebstrap', mmdebstrapArgs(join(tmp, 'rootfs'), o.mirror ?? 'http://deb.debian.org/debian'), { onLine: o.onProgress ?? (() => {}) });
    // mmdebstrap only warns when it cannot unmount the chroot's /proc (busy at that moment):
    // left there, it would move with the rename into every machine's lower layer and SIGIL_HOME.
    await unmountBelow(tmp);
    await ensureImageDigests(join(tmp, 'rootfs'));
    await writeFile(join(tmp, 'image.json'), JSON.stringify({ version: IMAGE_VERSION, release: 'bookworm', packages: IMAGE_PACKAGES, built: new Date().toISOString() }, null, 2) + '\n');
    if (await exists(final)) {
      // A forced rebuild: move the old image aside in one step, then delete it.
      const old = join(imagesDir, `${IMAGE_NAME}.old-${Date.now()}`);
      await rename(final, old);
      await rename(tmp, final);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, final);
    }
    const ms = Date.now() - started;
    o.onProgress?.(`image ${IMAGE_NAME} built in ${(ms / 1000).toFixed(1)} s`);
    return { rootfs: imageRootfs(imagesDir), built: true, ms };
  } finally {
    await release();
  }
}

/**
 * The image is a Debian 12 minbase with systemd and what a charm expects of a Juju
 * machine. Fix-ups: apt lists are kept (and cached with gencaches) so `apt-get install`
 * works before the first refresh; host-specific files (hostname, resolv.conf, ssh host
 * keys) are removed because every machine writes its own.
 */
export function mmdebstrapArgs(target: string, mirror: string): string[] {
  const security = mirror.replace(/\/debian\/?$/, '/debian-security');
  const hooks = [
    'rm -f "$1"/etc/hostname "$1"/etc/ssh/ssh_host_* "$1"/var/cache/apt/archives/*.deb',
    'printf "# Sigil writes this file for each machine\\n" > "$1"/etc/resolv.conf',
    'printf "HostKey /etc/ssh/ssh_host_ed25519_key\\nPasswordAuthentication no\\n" > "$1"/etc/ssh/sshd_config.d/sigil.conf',
    // Units that cannot work in a container would otherwise leave systemd "degraded".
    'chroot "$1" systemctl mask systemd-journald-audit.socket sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount',
    'chroot "$1" apt-cache gencaches',
  ];
  return [
    '--variant=minbase',
    `--include=${IMAGE_PACKAGES.join(',')}`,
    '--skip=cleanup/apt',
    ...hooks.map((h) => `--customize-hook=${h}`),
    'bookworm',
    target,
    `deb ${mirror} bookworm main`,
    `deb ${mirror} bookworm-updates main`,
    `deb ${security} bookworm-security main`,
  ];
}

/**
 * Removes what a killed build left: its mmdebstrap may still run (it does not die with
 * its parent) and may have left /proc, /sys and /dev mounted in the chroot, which a
 * recursive delete must never walk into.
 */
async function removeStale(dir: string): Promise<void> {
  // Two passes: a process may fork while the first pass runs. Chrooted children of
  // mmdebstrap (apt, dpkg) are recognised by their root directory.
  for (let pass = 0; pass < 2; pass++) {
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const root = await readlink(`/proc/${pid}/root`).catch(() => '/');
      if (cmdline.includes(dir) || root.startsWith(dir + '/')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await unmountBelow(dir);
  await rm(dir, { recursive: true, force: true });
}

/** Lazily unmounts every mount below `dir`, deepest first. */
async function unmountBelow(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '));
  for (const m of mounts.filter((m) => m.startsWith(dir + '/')).sort((a, b) => b.length - a.length)) await runOk('umount', ['-l', m]);
}

/**
 * Takes an exclusive lock file holding our pid. A lock whose holder is dead is stale and
 * is taken over; a live holder is waited for.
 */
async function lock(path: string, onProgress?: (line: string) => void): Promise<() => Promise<void>> {
  let told = false;
  let empty = 0;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = (await readFile(path, 'utf8').catch(() => '')).trim();
    // An empty file is a holder between creating and writing it: give it a moment.
    if (text === '' && empty++ < 20) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const holder = Number(text);
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      await rm(path, { force: true });
      continue;
    }
    // The holder may be this very process (a second caller while a build runs): wait too.
    if (!told) onProgress?.(`waiting for process ${holder}, which is building the image`);
    told = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}


/**
 * Provisions a unit's storage on this machine (issue 20), as Juju's built-in machine pools
 * do: `rootfs` is a directory; `loop` is a file of the requested size, formatted ext4 and
 * loop-mounted for a filesystem (a real size limit) or attached as a loop device for a
 * block store. Where the filesystem appears follows Juju's FilesystemMountPoint: the
 * charm's `location` for a single store, `<location>/<id>` for a multiple one, and
 * `/var/lib/juju/storage/<id>` without a location. On a machine whose provider keeps
 * storage beside the machines (local-process: `storageDir`), the data lives there instead,
 * so it outlives the unit and the machine.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnitStorageView, UnitView } from '@sigil/api';
import type { AgentApi } from './api-client.ts';
import type { HookInfo } from './resolver/state.ts';

const JUJU_STORAGE_DIR = '/var/lib/juju/storage';

export interface StoragePlace {
  /** What the charm sees (JUJU_STORAGE_LOCATION, storage-get location). */
  location: string;
  /** The backing file of a loop pool ('' for rootfs). */
  image: string;
}

/** Where a storage instance goes on this machine. Pure. */
export function storagePlace(s: Pick<UnitStorageView, 'id' | 'kind' | 'pool' | 'location' | 'multiple'>, storageDir: string | undefined): StoragePlace {
  const flat = s.id.replace('/', '-');
  if (storageDir !== undefined) {
    const base = join(storageDir, flat);
    if (s.kind === 'block') return { location: `${base}.img`, image: `${base}.img` };
    return { location: base, image: s.pool === 'loop' ? `${base}.img` : '' };
  }
  const image = s.pool === 'loop' ? join(JUJU_STORAGE_DIR, 'images', `${flat}.img`) : '';
  if (s.kind === 'block') return { location: '', image };
  const location = s.location !== '' && !s.multiple ? s.location : join(s.location || JUJU_STORAGE_DIR, s.id);
  return { location, image };
}

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout.trim());
    });
  });
}

async function mountedAt(location: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  return mounts.split('\n').some((l) => l.split(' ')[1] === location.replace(/ /g, '\\040'));
}

/** A sparse file of exactly `mib` MiB (grown, never shrunk, if it exists). */
async function sizedFile(path: string, mib: number): Promise<boolean> {
  const existed = await stat(path).then(() => true, () => false);
  const f = await open(path, 'a');
  try {
    const bytes = mib * 1024 * 1024;
    if ((await f.stat()).size < bytes) await f.truncate(bytes);
  } finally {
    await f.close();
  }
  return existed;
}

/**
 * The loop device backing `image`, attached now if it is not yet. Inside a container the
 * device node may not exist: it is made from the number /dev/loop-control hands out. Two
 * machines asking at once may be given the same number; the loser asks again.
 */
async function loopDevice(image: string): Promise<string> {
  const existing = (await run(['losetup', '-j', image])).split(':')[0];
  if (existing !== undefined && existing !== '') return existing;
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dev = await run(['losetup', '-f']);
    const n = /^\/dev\/loop(\d+)$/.exec(dev)?.[1];
    if (n === undefined) throw new Error(`losetup -f gave ${JSON.stringify(dev)}`);
    if (!(await stat(dev).then(() => true, () => false))) await run(['mknod', dev, 'b', '7', n]);
    try {
      await run(['losetup', dev, image]);
      return dev;
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

/** Makes the storage exist and returns where the charm finds it. Idempotent: a rerun after a crash finds it in place. */
export async function provisionStorage(s: UnitStorageView, storageDir: string | undefined): Promise<string> {
  const place = storagePlace(s, storageDir);
  if (place.image !== '') {
    await mkdir(join(place.image, '..'), { recursive: true, mode: 0o700 });
    const existed = await sizedFile(place.image, s.size);
    if (s.kind === 'block') return storageDir !== undefined ? place.image : loopDevice(place.image);
    if (!existed) await run(['mkfs.ext4', '-q', '-F', place.image]);
    await mkdir(place.location, { recursive: true });
    if (!(await mountedAt(place.location))) await run(['mount', await loopDevice(place.image), place.location]);
    return place.location;
  }
  await mkdir(place.location, { recursive: true });
  return place.location;
}

/** Undoes the attachment (unmount, detach the loop device); with `destroy`, the data goes too. */
export async function releaseStorage(s: UnitStorageView, storageDir: string | undefined, destroy: boolean): Promise<void> {
  const place = storagePlace(s, storageDir);
  if (place.image !== '') {
    if (s.kind === 'filesystem' && (await mountedAt(place.location))) await run(['umount', place.location]);
    const dev = (await run(['losetup', '-j', place.image]).catch(() => '')).split(':')[0];
    if (dev !== undefined && dev !== '') await run(['losetup', '-d', dev]).catch(() => {});
    if (destroy) await rm(place.image, { force: true });
  }
  if (destroy && s.kind === 'filesystem') await rm(place.location, { recursive: true, force: true });
}

/** The storage of one storage hook, as the hook sees it (JUJU_STORAGE_*). */
export interface HookStorage {
  id: string;
  kind: 'filesystem' | 'block';
  location: string;
  /** storage-attached (provisioned now) rather than storage-detaching. */
  attaching: boolean;
}

export interface HookStorageDeps {
  api: AgentApi;
  unit: string;
  view: UnitView;
  storageDir?: string;
  log(message: string): void;
}

/**
 * A storage hook's storage: made to exist before storage-attached runs (a failure is
 * reported on the storage, and the hook retried), found where it was put for
 * storage-detaching.
 */
export async function prepareHookStorage(d: HookStorageDeps, hook: HookInfo, mine: { kind: 'filesystem' | 'block'; location: string } | undefined): Promise<HookStorage> {
  const id = hook.storageId!;
  const view = d.view.storage?.find((s) => s.id === id);
  if (hook.name.endsWith('-storage-detaching')) return { id, kind: mine?.kind ?? view?.kind ?? 'filesystem', location: mine?.location ?? '', attaching: false };
  if (!view) throw new Error(`storage ${id} is not in this unit's view`);
  try {
    return { id, kind: view.kind, location: await provisionStorage(view, d.storageDir), attaching: true };
  } catch (e) {
    await d.api.call('POST /api/agent/storage', { body: { unit: d.unit, id, status: 'error', location: '', message: `cannot provision storage: ${(e as Error).message}` } }).catch(() => {});
    throw e;
  }
}

/** After a storage hook committed: tell the controller; a detached store is released (and destroyed if asked). */
export async function finishHookStorage(d: HookStorageDeps, st: HookStorage): Promise<void> {
  if (st.attaching) {
    await d.api.call('POST /api/agent/storage', { body: { unit: d.unit, id: st.id, status: 'attached', location: st.location } });
    return;
  }
  const view = d.view.storage?.find((s) => s.id === st.id);
  if (view) await releaseStorage(view, d.storageDir, view.destroy);
  await d.api.call('POST /api/agent/storage', { body: { unit: d.unit, id: st.id, status: 'detached', location: '' } });
  d.log(`storage ${st.id} detached${view?.destroy ? ' and destroyed' : ''}`);
}

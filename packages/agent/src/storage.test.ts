import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UnitStorageView } from '@sigil/api';
import { canRun } from '../../../tests/ci.ts';
import { provisionStorage, releaseStorage, storagePlace } from './storage.ts';

const view = (over: Partial<UnitStorageView>): UnitStorageView => ({
  id: 'data/0', name: 'data', kind: 'filesystem', pool: 'rootfs', size: 16, location: '', multiple: false, life: 'alive', destroy: false, status: 'pending', ...over,
});

describe('where storage goes (Juju FilesystemMountPoint)', () => {
  it.each([
    [{ location: '/srv/data' }, undefined, { location: '/srv/data', image: '' }],
    [{ location: '/srv/data', multiple: true, id: 'data/3' }, undefined, { location: '/srv/data/data/3', image: '' }],
    [{}, undefined, { location: '/var/lib/juju/storage/data/0', image: '' }],
    [{ pool: 'loop', location: '/srv/data' }, undefined, { location: '/srv/data', image: '/var/lib/juju/storage/images/data-0.img' }],
    [{ kind: 'block', pool: 'loop' }, undefined, { location: '', image: '/var/lib/juju/storage/images/data-0.img' }],
    [{ location: '/srv/data' }, '/st', { location: '/st/data-0', image: '' }],
    [{ kind: 'block', pool: 'loop' }, '/st', { location: '/st/data-0.img', image: '/st/data-0.img' }],
  ] as const)('%j on %s', (over, dir, place) => {
    expect(storagePlace(view(over), dir)).toEqual(place);
  });
});

const root = process.getuid?.() === 0 && existsSync('/dev/loop-control');
describe.runIf(canRun(root, 'root and loop devices'))('the loop pool on this host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-loop-'));
  afterAll(async () => {
    await releaseStorage(view({ pool: 'loop' }), dir, true).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('is an ext4 filesystem of the requested size that refuses to grow past it, and keeps its data across detach', async () => {
    const s = view({ pool: 'loop', size: 16 });
    const location = await provisionStorage(s, dir);
    expect(location).toBe(join(dir, 'data-0'));
    const df = execFileSync('df', ['-B1M', '--output=size,fstype', location], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/);
    expect(Number(df[0])).toBeLessThanOrEqual(16);
    // A write past the limit fails: the size is real.
    expect(() => execFileSync('dd', ['if=/dev/zero', `of=${join(location, 'fill')}`, 'bs=1M', 'count=32'], { stdio: 'pipe' })).toThrow();
    rmSync(join(location, 'fill'));
    writeFileSync(join(location, 'kept'), 'yes');
    await releaseStorage(s, dir, false);
    expect(existsSync(join(location, 'kept'))).toBe(false);
    expect(await provisionStorage(s, dir)).toBe(location);
    expect(readFileSync(join(location, 'kept'), 'utf8')).toBe('yes');
    await releaseStorage(s, dir, true);
    expect(existsSync(join(dir, 'data-0.img'))).toBe(false);
  });

  it('a block store on a machine of its own is a loop device of the size', async () => {
    const s = view({ id: 'raw/0', name: 'raw', kind: 'block', pool: 'loop', size: 8 });
    // Outside local-process the image lives under /var/lib/juju/storage: removed afterwards if this test made it.
    const hadJuju = existsSync('/var/lib/juju');
    const dev = await provisionStorage(s, undefined).catch((e: Error) => e);
    try {
      expect(dev).toMatch(/^\/dev\/loop\d+$/);
      expect(Number(execFileSync('blockdev', ['--getsize64', dev as string], { encoding: 'utf8' }).trim())).toBe(8 * 1024 * 1024);
    } finally {
      await releaseStorage(s, undefined, true);
      if (!hadJuju) rmSync('/var/lib/juju', { recursive: true, force: true });
    }
  });
});

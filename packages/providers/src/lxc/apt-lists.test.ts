import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDir } from '../../../../tests/temp.ts';
import { AptLists, LISTS_MAX_AGE_MS, seedLists } from './apt-lists.ts';

const LIST = 'deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages';

function host() {
  const root = testDir('sigil-apt-lists-');
  const rootfs = join(root, 'rootfs');
  mkdirSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, mode: 0o755 });
  mkdirSync(join(rootfs, 'var/lib/sigil'), { recursive: true, mode: 0o700 });
  // An archive nobody serves: a fetch fails.
  mkdirSync(join(rootfs, 'etc/apt/apt.conf.d'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/apt/sources.list'), 'deb http://127.0.0.1:9/debian bookworm main\n');
  const dir = join(root, 'debian-12-v1-lists');
  mkdirSync(join(dir, 'lists'), { recursive: true });
  writeFileSync(join(dir, 'lists', LIST), 'Package: fresh\n');
  return { root, rootfs, dir };
}

describe('apt lists fetched once for the host', () => {
  it('are offered to new machines while fresh, with the files that differ from the image', async () => {
    const h = host();
    const fetchedAt = Date.now() - 60_000;
    writeFileSync(join(h.dir, 'manifest.json'), JSON.stringify({ fetchedAt, files: [LIST] }));
    const lists = new AptLists({ dir: h.dir, rootfs: h.rootfs, proxyUrl: () => 'http://10.0.0.1:3142' });
    expect(await lists.fresh()).toEqual({ dir: join(h.dir, 'lists'), files: [LIST], fetchedAt });
  });

  it('are not offered once older than the limit (the machine refreshes its own)', async () => {
    const h = host();
    writeFileSync(join(h.dir, 'manifest.json'), JSON.stringify({ fetchedAt: Date.now() - LISTS_MAX_AGE_MS - 1000, files: [LIST] }));
    // A fetch starts in the background; against no archive it fails, and is only logged.
    const logged: string[] = [];
    const lists = new AptLists({ dir: h.dir, rootfs: h.rootfs, proxyUrl: () => 'http://127.0.0.1:9', log: (m) => logged.push(m) });
    expect(await lists.fresh()).toBeUndefined();
    await lists.settled();
    expect(logged).toEqual(['apt lists fetch failed; machines refresh their own']);
    // What was there stays as it was, and nothing half-fetched is left beside it.
    expect(readFileSync(join(h.dir, 'lists', LIST), 'utf8')).toBe('Package: fresh\n');
    expect(existsSync(`${h.dir}.tmp-${process.pid}`)).toBe(false);
  });

  it("seed a machine's upper layer: the changed files with their time, image modes, and the refresh marked done", async () => {
    const h = host();
    const upper = join(h.root, 'upper');
    mkdirSync(upper);
    const fetchedAt = Date.parse('2026-12-07T10:00:00Z');
    await seedLists(upper, h.rootfs, { dir: join(h.dir, 'lists'), files: [LIST], fetchedAt });
    const seeded = join(upper, 'var/lib/apt/lists', LIST);
    expect(readFileSync(seeded, 'utf8')).toBe('Package: fresh\n');
    expect(statSync(seeded).mtimeMs).toBe(fetchedAt);
    expect(statSync(join(upper, 'var/lib/sigil')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(upper, 'var/lib/sigil/apt-refreshed'), 'utf8')).toBe('lists of 2026-12-07T10:00:00.000Z from the host\n');
  });
});

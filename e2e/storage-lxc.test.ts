import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARMS, canRunContainers, lxcModel, ok, poll, sigil, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';

/**
 * The `loop` storage pool on a real machine (issue 20): a filesystem store is an ext4 loop
 * device of the requested size, mounted inside the container at the charm's `location`,
 * and a write past its size fails; removing the application with --destroy-storage runs
 * storage-detaching, unmounts it and drops it.
 */
describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('storage on LXC machines', () => {
  let M: string;
  /** One shell command line on the unit (sigil exec runs its arguments as one line, as Juju does). */
  const exec = (cmd: string) => sigil(['exec', '-m', M, '--unit', 'storage-user/0', '--', cmd]);

  beforeAll(async () => {
    M = await lxcModel('storage');
    await ok(['deploy', join(CHARMS, 'storage-user'), '-m', M, '--storage', 'data=loop,20M']);
    await until(M, 'storage-user/0 active', (s) => workload(s, 'storage-user/0').startsWith('active data=data/0'), 300_000);
  }, 360_000);

  it('mounts an ext4 loop device of the requested size at the charm\'s location, with a real limit', async () => {
    const st = JSON.parse(await ok(['storage', '-m', M, '--format', 'json'])) as { storage: Record<string, { attachments?: { units: Record<string, { location?: string }> } }> };
    expect(st.storage['data/0']?.attachments?.units['storage-user/0']?.location).toBe('/srv/storage-user/data');
    // The image's df takes no --output: read /proc/mounts and plain `df -k`.
    const mount = await exec('grep " /srv/storage-user/data " /proc/mounts');
    expect(mount.code, mount.stderr).toBe(0);
    const [source, , fstype] = mount.stdout.trim().split(/\s+/);
    expect(fstype, mount.stdout).toBe('ext4');
    expect(source).toMatch(/^\/dev\/loop\d+$/);
    const df = await exec('df -k /srv/storage-user/data | tail -1');
    const kib = Number(df.stdout.trim().split(/\s+/)[1]);
    expect(kib, df.stdout).toBeGreaterThan(10 * 1024);
    expect(kib, df.stdout).toBeLessThanOrEqual(20 * 1024);
    const fill = await exec('dd if=/dev/zero of=/srv/storage-user/data/fill bs=1M count=40 2>&1; echo "exit=$?"');
    expect(fill.stdout).toMatch(/No space left on device/);
    expect(fill.stdout).toMatch(/exit=1/);
    expect((await exec('cat /srv/storage-user/data/marker')).stdout).toBe('storage-user/0\n');
  }, 120_000);

  it('remove-application --destroy-storage detaches (storage-detaching, unmounted) and drops it', async () => {
    await ok(['remove-application', 'storage-user', '-m', M, '--yes', '--destroy-storage']);
    await poll('data/0 destroyed', async () => {
      const st = JSON.parse(await ok(['storage', '-m', M, '--format', 'json'])) as { storage: Record<string, unknown> };
      return st.storage['data/0'] === undefined ? true : undefined;
    }, 180_000);
  }, 200_000);
});

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
  const exec = (cmd: string) => sigil(['exec', '-m', M, '--unit', 'storage-user/0', '--', 'bash', '-c', cmd]);

  beforeAll(async () => {
    M = await lxcModel('storage');
    await ok(['deploy', join(CHARMS, 'storage-user'), '-m', M, '--storage', 'data=loop,20M']);
    await until(M, 'storage-user/0 active', (s) => workload(s, 'storage-user/0').startsWith('active data=data/0'), 300_000);
  }, 360_000);

  it('mounts an ext4 loop device of the requested size at the charm\'s location, with a real limit', async () => {
    const st = JSON.parse(await ok(['storage', '-m', M, '--format', 'json'])) as { storage: Record<string, { attachments?: { units: Record<string, { location?: string }> } }> };
    expect(st.storage['data/0']?.attachments?.units['storage-user/0']?.location).toBe('/srv/storage-user/data');
    const df = await exec('df -B1M --output=size,fstype,source /srv/storage-user/data | tail -1');
    expect(df.code, df.stderr).toBe(0);
    const [size, fstype, source] = df.stdout.trim().split(/\s+/);
    expect(fstype).toBe('ext4');
    expect(source).toMatch(/^\/dev\/loop\d+$/);
    expect(Number(size)).toBeLessThanOrEqual(20);
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

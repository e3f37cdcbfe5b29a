import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARMS, freshModel, hookLines, ok, poll, sigil, status, until, workload } from './harness.ts';
import { suiteDir } from '../tests/temp.ts';

interface StorageJson {
  storage: Record<string, { kind: string; status: { current: string }; attachments?: { units: Record<string, { location?: string }> } }>;
}

/**
 * Juju storage and resources end to end on the local-process provider (issue 20), with
 * the test charm storage-user: storage-attached before install, storage-get/-list/-add,
 * add/detach/attach/remove-storage, data kept across remove-unit unless
 * --destroy-storage, resource-get and upgrade-charm on a new resource; bad input refused
 * with a hint and nothing changed.
 */
describe('storage and resources', () => {
  let m: string;
  const dir = suiteDir('sigil-storage-');
  const payload = (text: string) => {
    const f = join(dir, `payload-${text}.txt`);
    writeFileSync(f, text);
    return f;
  };
  const charm = join(CHARMS, 'storage-user');
  const storageJson = async () => JSON.parse(await ok(['storage', '-m', m, '--format', 'json'])) as StorageJson;
  const location = async (id: string) => Object.values((await storageJson()).storage[id]?.attachments?.units ?? {})[0]?.location;
  const refused = async (args: string[], message: RegExp) => {
    const r = await sigil(args);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('hint:');
  };

  /** Waits for a line in a unit's hook log; a timeout shows the log and the status. */
  const waitLine = async (unit: string, line: string, timeoutMs = 60_000) => {
    let last: string[] = [];
    try {
      await poll(`"${line}" in ${unit}'s hook log`, async () => ((last = await hookLines(m, unit)).includes(line) ? true : undefined), timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nhook log:\n  ${last.join('\n  ')}\nstatus:\n${await ok(['status', '-m', m])}\nstorage:\n${await ok(['storage', '-m', m])}`);
    }
  };

  beforeAll(async () => {
    m = await freshModel('storage');
  });

  it('refuses bad storage and resources before deploying anything', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, '');
    truncateSync(big, 65 * 1024 * 1024);
    await refused(['deploy', charm, '-m', m, '--storage', 'data=nosuchpool,20M'], /pool "nosuchpool" not found/);
    await refused(['deploy', charm, '-m', m, '--storage', 'data=rootfs,1M'], /charm "storage-user" store "data": minimum storage size is 10 MB, 1.0 MB specified/);
    await refused(['deploy', charm, '-m', m, '--storage', 'logs=1G'], /the charm has no store called "logs"/);
    await refused(['deploy', charm, '-m', m, '--storage', 'cache=4'], /at most 3 instances supported, 4 specified/);
    await refused(['deploy', charm, '-m', m, '--resource', `payload=${join(dir, 'missing.txt')}`], /resource file ".*missing.txt" for "payload" does not exist/);
    await refused(['deploy', charm, '-m', m, '--resource', `theme=${payload('x')}`], /the charm has no resource "theme"/);
    await refused(['deploy', charm, '-m', m, '--resource', `payload=${big}`], /is 68157440 bytes, over the limit/);
    const s = await status(m);
    expect(Object.keys(s.applications)).toEqual([]);
    expect((await storageJson()).storage).toEqual({});
  }, 120_000);

  it('runs storage-attached before install, with storage-get and JUJU_STORAGE_* agreeing', async () => {
    await ok(['deploy', charm, '-m', m, '--storage', 'data=rootfs,20M', '--resource', `payload=${payload('first')}`]);
    await until(m, 'storage-user/0 active', (s) => workload(s, 'storage-user/0') === 'active data=data/0 cache=0 payload=first', 90_000);
    const lines = await hookLines(m, 'storage-user/0');
    const loc = await location('data/0');
    expect(loc).toMatch(/\/data-0$/);
    expect(lines[0]).toBe(`data-storage-attached id=data/0 kind=filesystem location=${loc} env=filesystem:${loc} installed=no`);
    expect(lines[1]).toBe('install storage=data/0, payload=first');
    expect(readFileSync(join(loc!, 'marker'), 'utf8')).toBe('storage-user/0\n');

    const table = await ok(['storage', '-m', m]);
    expect(table.split('\n')[0]).toMatch(/^Unit\s+Storage ID\s+Type\s+Pool\s+Size\s+Status\s+Message$/);
    expect(table).toMatch(/storage-user\/0\s+data\/0\s+filesystem\s+rootfs\s+20 MiB\s+attached/);
    const pools = await ok(['storage-pools', '-m', m]);
    expect(pools).toMatch(/^Name\s+Provider\s+Attributes\nloop\s+loop\s*\nrootfs\s+rootfs\s*\n$/);
    expect(await ok(['resources', 'storage-user', '-m', m])).toMatch(/^Resource\s+Supplied by\s+Revision\npayload\s+admin\s+\d{4}-\d\d-\d\dT\d\d:\d\d\n$/);
  }, 150_000);

  it('a new resource fires upgrade-charm; resource-get gives the new file', async () => {
    await ok(['attach-resource', 'storage-user', `payload=${payload('second')}`, '-m', m]);
    await until(m, 'payload=second', (s) => workload(s, 'storage-user/0').endsWith('payload=second'), 60_000);
    const lines = await hookLines(m, 'storage-user/0');
    expect(lines).toContainEqual(expect.stringMatching(/^upgrade-charm payload=second path=.*\/resources\/payload\/payload.txt$/));
    const json = JSON.parse(await ok(['resources', 'storage-user', '-m', m, '--format', 'json'])) as { resources: { name: string; size: number; fingerprint: string }[] };
    expect(json.resources[0]).toMatchObject({ name: 'payload', size: 6 });
    expect(json.resources[0]!.fingerprint).toMatch(/^[0-9a-f]{96}$/);
    await refused(['attach-resource', 'storage-user', `nope=${payload('x')}`, '-m', m], /the charm has no resource "nope"/);
  }, 90_000);

  it('add-storage and storage-add attach more stores; a block store is a file of its size', async () => {
    await ok(['add-storage', 'storage-user/0', 'cache=2', '-m', m]);
    await until(m, 'two caches', (s) => workload(s, 'storage-user/0').includes('cache=2'), 60_000);
    await ok(['config', 'storage-user', 'cache-count=3', '-m', m]);
    await until(m, 'three caches', (s) => workload(s, 'storage-user/0').includes('cache=3'), 60_000);
    const lines = await hookLines(m, 'storage-user/0');
    expect(lines).toContain('storage-add cache=1');
    expect(lines.filter((l) => l.startsWith('cache-storage-attached')).map((l) => l.split(' ')[1])).toEqual(['id=cache/0', 'id=cache/1', 'id=cache/2']);
    await refused(['add-storage', 'storage-user/0', 'cache=1', '-m', m], /would exceed the maximum of 3/);
    await refused(['add-storage', 'storage-user/0', 'logs=1', '-m', m], /has no store called "logs"/);
    await ok(['add-storage', 'storage-user/0', 'raw=loop,8M', '-m', m]);
    const raw = await poll('raw attached', async () => ((await hookLines(m, 'storage-user/0')).find((l) => l.startsWith('block size=')) ? true : undefined), 60_000);
    expect(raw).toBe(true);
    expect(await hookLines(m, 'storage-user/0')).toContain(`block size=${8 * 1024 * 1024}`);
    // New units get no cache stores from the charm's option (the next test adds one).
    await ok(['config', 'storage-user', 'cache-count=0', '-m', m]);
  }, 150_000);

  it('detach-storage runs storage-detaching and keeps the data; attach-storage brings it back', async () => {
    const loc = (await location('cache/0'))!;
    await ok(['detach-storage', 'cache/0', '-m', m]);
    await poll('cache/0 detached', async () => ((await storageJson()).storage['cache/0']?.status.current === 'detached' ? true : undefined), 60_000);
    expect(await hookLines(m, 'storage-user/0')).toContain(`cache-storage-detaching id=cache/0 location=${loc}`);
    expect(await ok(['storage', '-m', m])).toMatch(/^\s+cache\/0\s+filesystem\s+rootfs\s+1.0 GiB\s+detached/m);
    expect(existsSync(join(loc, 'marker'))).toBe(true);
    await refused(['attach-storage', 'storage-user/0', 'data/9', '-m', m], /storage data\/9 not found/);
    await ok(['attach-storage', 'storage-user/0', 'cache/0', '-m', m]);
    await waitLine('storage-user/0', 'found marker in cache/0: storage-user/0');
  }, 120_000);

  it('remove-unit keeps storage unless --destroy-storage; another unit gets the kept data', async () => {
    const data0 = (await location('data/0'))!;
    await ok(['remove-unit', 'storage-user/0', '-m', m, '--yes']);
    await poll('storage-user/0 gone, its storage detached', async () => {
      const st = (await storageJson()).storage;
      return st['data/0']?.status.current === 'detached' && st['cache/1']?.status.current === 'detached' ? true : undefined;
    }, 90_000);
    expect(readFileSync(join(data0, 'marker'), 'utf8')).toBe('storage-user/0\n');

    await ok(['add-unit', 'storage-user', '-m', m]);
    await until(m, 'storage-user/1 active', (s) => workload(s, 'storage-user/1').startsWith('active data=data/1 '), 90_000);
    await refused(['attach-storage', 'storage-user/1', 'data/0', '-m', m], /would exceed the maximum of 1 "data"/);
    await ok(['attach-storage', 'storage-user/1', 'cache/1', '-m', m]);
    await waitLine('storage-user/1', 'found marker in cache/1: storage-user/0');

    const data1 = (await location('data/1'))!;
    await ok(['remove-unit', 'storage-user/1', '-m', m, '--yes', '--destroy-storage']);
    await poll('storage-user/1 storage destroyed', async () => {
      const st = (await storageJson()).storage;
      return st['data/1'] === undefined && st['cache/1'] === undefined ? true : undefined;
    }, 90_000);
    expect(existsSync(data1)).toBe(false);
    expect((await storageJson()).storage['data/0']?.status.current).toBe('detached');

    await ok(['remove-storage', 'data/0', '-m', m]);
    expect((await storageJson()).storage['data/0']).toBeUndefined();
    expect(existsSync(data0)).toBe(false);
  }, 240_000);
});

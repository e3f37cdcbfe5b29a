import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StorageInstanceDoc } from '@sigil/api';
import { parseStorageArgs, poolsDocument, readResourceArgs, renderPools, renderResources, renderStorageTable, storageDocument } from './storage.ts';
import { suiteDir } from '../../../../tests/temp.ts';

const inst = (over: Partial<StorageInstanceDoc>): StorageInstanceDoc => ({
  id: 'data/0', name: 'data', kind: 'filesystem', pool: 'rootfs', size: 1024, unit: 'pg/0', owner: 'pg/0', machine: '0', location: '/srv/data',
  status: 'attached', message: '', life: 'alive', persistent: false, since: Date.UTC(2026, 11, 5, 22, 30, 0), ...over,
});

describe('sigil storage', () => {
  const list = [inst({ id: 'data/10', unit: 'pg/1' }), inst({}), inst({ id: 'data/2', unit: '', owner: '', status: 'detached', location: '' }), inst({ id: 'raw/0', name: 'raw', kind: 'block', pool: 'loop', size: 8, location: '/dev/loop3' })];

  it('prints Juju\'s columns: detached storage (no unit) first, then by unit and id', () => {
    expect(renderStorageTable(list)).toBe([
      'Unit  Storage ID  Type        Pool    Size     Status    Message',
      '      data/2      filesystem  rootfs  1.0 GiB  detached  ',
      'pg/0  data/0      filesystem  rootfs  1.0 GiB  attached  ',
      'pg/0  raw/0       block       loop    8.0 MiB  attached  ',
      'pg/1  data/10     filesystem  rootfs  1.0 GiB  attached  ',
    ].map((l) => l.trimEnd()).join('\n') + '\n');
    expect(renderStorageTable([])).toBe('No storage to display.\n');
  });

  it('--format json has Juju\'s storage map with status and attachments, and the filesystems and volumes', () => {
    const doc = storageDocument(list) as { storage: Record<string, unknown>; filesystems: Record<string, unknown>; volumes: Record<string, unknown> };
    expect(doc.storage['data/0']).toEqual({ kind: 'filesystem', owner: 'pg/0', life: 'alive', status: { current: 'attached', since: '05 Dec 2026 22:30:00Z' }, persistent: false, attachments: { units: { 'pg/0': { machine: '0', location: '/srv/data', life: 'alive' } } } });
    expect(doc.storage['data/2']).toEqual({ kind: 'filesystem', life: 'alive', status: { current: 'detached', since: '05 Dec 2026 22:30:00Z' }, persistent: false });
    expect(Object.values(doc.volumes)).toEqual([expect.objectContaining({ storage: 'raw/0', pool: 'loop', size: 8 })]);
    expect(Object.keys(doc.filesystems)).toHaveLength(3);
  });

  it('storage-pools: Name, Provider, Attributes', () => {
    const pools = [{ name: 'rootfs', provider: 'rootfs', attributes: {}, kinds: ['filesystem' as const] }, { name: 'loop', provider: 'loop', attributes: {}, kinds: ['block' as const] }];
    expect(renderPools(pools).split('\n').map((l) => l.trimEnd())).toEqual(['Name    Provider  Attributes', 'loop    loop', 'rootfs  rootfs', '']);
    expect(poolsDocument(pools)).toEqual({ loop: { provider: 'loop' }, rootfs: { provider: 'rootfs' } });
  });
});

describe('sigil resources', () => {
  it('prints Resource, Supplied by, Revision (the upload time, as Juju)', () => {
    const r = { name: 'theme', type: 'file', path: 'theme.zip', description: '', revision: 2, fingerprint: 'ab', size: 3, origin: 'upload' as const, username: 'admin', timestamp: Date.UTC(2026, 11, 5, 22, 30) };
    const none = { ...r, name: 'logo', revision: 0, origin: '' as const, username: '', timestamp: 0 };
    expect(renderResources([none, r]).split('\n').map((l) => l.trimEnd())).toEqual(['Resource  Supplied by  Revision', 'logo      -            -', 'theme     admin        2026-12-05T22:30', '']);
  });
});

describe('checked before anything is sent', () => {
  const dir = suiteDir('sigil-res-');
  writeFileSync(join(dir, 'ok.txt'), 'hello');
  const big = join(dir, 'big.bin');
  writeFileSync(big, '');
  truncateSync(big, 64 * 1024 ** 2 + 1);

  it('resource files: names the charm declares, files that exist, within the limit', () => {
    expect(readResourceArgs([`theme=${join(dir, 'ok.txt')}`], ['theme']).theme?.toString()).toBe('hello');
    expect(() => readResourceArgs([`logo=${join(dir, 'ok.txt')}`], ['theme'])).toThrow('the charm has no resource "logo"');
    expect(() => readResourceArgs([`theme=${join(dir, 'nope')}`], ['theme'])).toThrow(/does not exist/);
    expect(() => readResourceArgs([`theme=${dir}`], ['theme'])).toThrow(/is not a regular file/);
    expect(() => readResourceArgs([`theme=${big}`], ['theme'])).toThrow(/over the limit of 67108864 bytes/);
    expect(() => readResourceArgs(['theme'], ['theme'])).toThrow(/invalid resource "theme"/);
  });

  it('storage directives: known stores, valid syntax', () => {
    expect(parseStorageArgs(['data=loop,2G', 'logs=3'], ['data', 'logs'])).toEqual({ data: { pool: 'loop', size: 2048 }, logs: { count: 3 } });
    expect(() => parseStorageArgs(['cache=1'], ['data'])).toThrow('the charm has no store called "cache"');
    expect(() => parseStorageArgs(['data'], ['data'])).toThrow(/invalid storage directive/);
  });
});

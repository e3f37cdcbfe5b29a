import { describe, expect, it } from 'vitest';
import { humanizeIMiB, humanizeMiB, parseSizeMiB, parseStorageDirective, splitStorageArg } from './storage.ts';
import { parseMetadata } from './metadata.ts';

const meta = (extra: string) => parseMetadata(`name: c\nsummary: s\ndescription: d\n${extra}`);

describe('storage: in metadata.yaml', () => {
  it('reads filesystem and block stores with Juju\'s defaults (count 1..1, no minimum)', () => {
    const m = meta(`storage:
  data: {type: filesystem, location: /srv/data, minimum-size: 10G, description: main}
  logs: {type: filesystem, multiple: {range: 0-3}, shared: true, read-only: true, properties: [transient]}
  disks: {type: block, multiple: {range: 2+}}
  one: {type: block, multiple: {range: 2}}
  open: {type: filesystem, multiple: {range: 1-}}
`);
    expect(m.storage.data).toEqual({ name: 'data', type: 'filesystem', description: 'main', shared: false, readOnly: false, countMin: 1, countMax: 1, minimumSize: 10240, location: '/srv/data', properties: [] });
    expect(m.storage.logs).toMatchObject({ countMin: 0, countMax: 3, shared: true, readOnly: true, properties: ['transient'] });
    expect(m.storage.disks).toMatchObject({ type: 'block', countMin: 2, countMax: -1 });
    expect(m.storage.one).toMatchObject({ countMin: 2, countMax: 2 });
    expect(m.storage.open).toMatchObject({ countMin: 1, countMax: -1 });
    expect(meta('').storage).toEqual({});
  });

  it.each([
    ['storage:\n  d: {location: /x}\n', /storage\.d.*type/],
    ['storage:\n  d: {type: tape}\n', /unexpected value/],
    ['storage:\n  d: {type: block, location: /x}\n', /location may not be specified for "type: block"/],
    ['storage:\n  d: {type: filesystem, minimum-size: lots}\n', /invalid minimum-size "lots"/],
    ['storage:\n  d: {type: filesystem, multiple: {range: 3-1}}\n', /maximum is below the minimum/],
    ['storage:\n  d: {type: filesystem, location: relative}\n', /not an absolute path/],
  ])('refuses %j', (yaml, message) => {
    expect(() => meta(yaml)).toThrow(message);
  });
});

describe('resources: in metadata.yaml', () => {
  it('reads file resources (type defaults to file)', () => {
    expect(meta('resources:\n  theme: {filename: theme.zip, description: a theme}\n').resources).toEqual({ theme: { name: 'theme', type: 'file', filename: 'theme.zip', description: 'a theme' } });
    expect(() => meta('resources:\n  theme: {type: file}\n')).toThrow(/filename/);
    expect(() => meta('resources:\n  theme: {filename: ../x}\n')).toThrow(/must be a base name/);
    expect(() => meta('resources:\n  theme: {type: blob, filename: x}\n')).toThrow(/unsupported resource type/);
  });
});

describe('sizes and directives', () => {
  it('parses sizes as Juju (MiB without suffix, binary suffixes) and prints them as Go humanize does', () => {
    expect([parseSizeMiB('10'), parseSizeMiB('1G'), parseSizeMiB('1.5G'), parseSizeMiB('2T'), parseSizeMiB('x')]).toEqual([10, 1024, 1536, 2 * 1024 * 1024, undefined]);
    expect([humanizeMiB(10), humanizeMiB(1024), humanizeMiB(1)]).toEqual(['10 MB', '1.0 GB', '1.0 MB']);
    expect([humanizeIMiB(20), humanizeIMiB(1024), humanizeIMiB(8), humanizeIMiB(0)]).toEqual(['20 MiB', '1.0 GiB', '8.0 MiB', '']);
  });

  it('reads NAME=POOL,SIZE,COUNT in any order, each part optional', () => {
    expect(splitStorageArg('data=rootfs,10G,2')).toEqual(['data', { pool: 'rootfs', size: 10240, count: 2 }]);
    expect(splitStorageArg('data=3,loop')).toEqual(['data', { count: 3, pool: 'loop' }]);
    expect(splitStorageArg('data')).toEqual(['data', {}]);
    expect(parseStorageDirective('data', '512M')).toEqual({ size: 512 });
    expect(() => parseStorageDirective('data', '1G,2G')).toThrow(/the size is given twice/);
    expect(() => parseStorageDirective('data', 'a b')).toThrow(/neither a pool name, a size nor a count/);
    expect(() => splitStorageArg('Data=1G')).toThrow(/invalid storage name/);
  });
});

import { describe, expect, test } from 'vitest';
import { cgroupSettings, memoryResizeOrder, parseConstraints, renderConfig, vethName } from './config.ts';
import { hostsFile } from './machine-files.ts';
import { parseSubnet, pickAddress } from './network.ts';
import { mmdebstrapArgs } from './image.ts';

describe('parseConstraints', () => {
  test.each([
    ['', {}],
    ['mem=256M', { memBytes: 256 * 2 ** 20 }],
    ['mem=2G cores=2', { memBytes: 2 * 2 ** 30, cores: 2 }],
    ['mem=512', { memBytes: 512 * 2 ** 20 }],
    ['cores=0.5 root-disk=8G', { cores: 0.5, rootDiskBytes: 8 * 2 ** 30 }],
    ['arch=amd64 tags=x mem=1g', { memBytes: 2 ** 30 }],
  ])('%j', (input, want) => {
    expect(parseConstraints(input)).toEqual(want);
  });

  test.each(['mem=lots', 'cores=0', 'cores=-1', 'mem'])('rejects %j', (input) => {
    expect(() => parseConstraints(input)).toThrow(expect.objectContaining({ code: 'invalid-params' }));
  });
});

describe('cgroupSettings', () => {
  test('memory comes before memsw, and memsw only with swap accounting', () => {
    const c = { memBytes: 256 * 2 ** 20, cores: 1.5 };
    expect(cgroupSettings(c, true)).toEqual([
      ['memory.limit_in_bytes', '268435456'],
      ['memory.memsw.limit_in_bytes', '268435456'],
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', '150000'],
    ]);
    expect(cgroupSettings(c, false).map(([k]) => k)).not.toContain('memory.memsw.limit_in_bytes');
  });

  test('raising widens memsw first; lowering narrows memory first', () => {
    expect(memoryResizeOrder(256, 512)).toEqual(['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
    expect(memoryResizeOrder(512, 256)).toEqual(['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
  });
});

describe('network', () => {
  test('a /24 gives .1 to the host and hands out the lowest free address from .2', () => {
    const s = parseSubnet('10.231.0.0/24');
    expect(s.gateway).toBe('10.231.0.1');
    expect(pickAddress(s, new Set())).toBe('10.231.0.2');
    expect(pickAddress(s, new Set(['10.231.0.2', '10.231.0.4']))).toBe('10.231.0.3');
  });

  test('goes round after the last address handed out instead of reusing a freed one at once', () => {
    const s = parseSubnet('10.231.0.0/24');
    expect(pickAddress(s, new Set(['10.231.0.2']), 3)).toBe('10.231.0.4');
    expect(pickAddress(s, new Set(['10.231.0.2']), 254)).toBe('10.231.0.3');
    expect(pickAddress(s, new Set(['10.231.0.254']), 253)).toBe('10.231.0.2');
  });

  test('refuses anything but a /24 and a full subnet', () => {
    expect(() => parseSubnet('10.231.0.0/16')).toThrow(expect.objectContaining({ code: 'invalid-config' }));
    expect(() => parseSubnet('10.231.300.0/24')).toThrow();
    const s = parseSubnet('10.231.0.0/24');
    const all = new Set(Array.from({ length: 253 }, (_, i) => `10.231.0.${i + 2}`));
    expect(() => pickAddress(s, all)).toThrow(expect.objectContaining({ code: 'unavailable' }));
  });
});

describe('renderConfig', () => {
  const base = {
    lxcpath: '/srv/sigil/lxc', name: 'sigil-default-0', hostname: 'sigil-default-0', lowerdir: '/img/rootfs', upperdir: '/srv/sigil/lxc/sigil-default-0/upper',
    bridge: 'sigilbr0', address: '10.231.0.2', nodeBinary: '/usr/bin/node', distDir: '/opt/my dist', constraints: { memBytes: 2 ** 28 }, swapAccounting: true,
  };

  test('overlay rootfs, static address without gateway, read-only mounts, limits', () => {
    const text = renderConfig(base);
    expect(text).toContain('lxc.rootfs.path = overlay:/img/rootfs:/srv/sigil/lxc/sigil-default-0/upper\n');
    expect(text).toContain('lxc.net.0.ipv4.address = 10.231.0.2/24\n');
    expect(text).not.toContain('gateway');
    expect(text).toContain('lxc.mount.entry = /usr/bin/node usr/local/bin/node none bind,ro,create=file 0 0\n');
    expect(text).toContain('lxc.mount.entry = /opt/my\\040dist opt/sigil/dist none bind,ro,create=dir 0 0\n');
    expect(text.indexOf('memory.limit_in_bytes')).toBeLessThan(text.indexOf('memory.memsw.limit_in_bytes'));
  });

  test('veth names fit an interface name and differ between containers', () => {
    const a = vethName('/srv/a/lxc', 'sigil-default-0');
    expect(a.length).toBeLessThanOrEqual(15);
    expect(a).not.toBe(vethName('/srv/b/lxc', 'sigil-default-0'));
  });
});

test('hosts name every machine of the model and the controller', () => {
  const text = hostsFile('m-1', [{ address: '10.0.0.10', hostname: 'm-10' }, { address: '10.0.0.2', hostname: 'm-1' }], '10.0.0.1');
  expect(text.split('\n').slice(2, 5)).toEqual(['10.0.0.1 sigil-controller', '10.0.0.2 m-1', '10.0.0.10 m-10']);
});

test('the image keeps apt lists and points at updates and security', () => {
  const args = mmdebstrapArgs('/tmp/x', 'http://deb.debian.org/debian');
  expect(args).toContain('--skip=cleanup/apt');
  expect(args.slice(-3)).toEqual([
    'deb http://deb.debian.org/debian bookworm main',
    'deb http://deb.debian.org/debian bookworm-updates main',
    'deb http://deb.debian.org/debian-security bookworm-security main',
  ]);
});

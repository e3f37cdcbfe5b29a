import { createHash } from 'node:crypto';
import { SigilError } from '@sigil/core';

/** The constraints this provider can enforce, in bytes and CPUs. */
export interface Constraints {
  memBytes?: number;
  cores?: number;
  /** Parsed and shown, but not enforced: an overlay on the host's filesystem has no size limit. */
  rootDiskBytes?: number;
}

const UNITS: Record<string, number> = { '': 1024 ** 2, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

function size(key: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([MGTP]?)$/i.exec(v);
  if (!m) throw new SigilError('invalid-params', `constraint ${key}="${v}" is not a size like 512M or 2G`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

/**
 * Parses Juju constraints ("mem=256M cores=1 root-disk=8G"). Sizes without a unit are
 * MiB, as in Juju. Keys that mean nothing for a container on this host (arch, tags,
 * instance-type, ...) are ignored, so a bundle written for a cloud still deploys.
 */
export function parseConstraints(s: string): Constraints {
  const c: Constraints = {};
  for (const part of s.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new SigilError('invalid-params', `constraint "${part}" is not key=value`);
    const [key, v] = [part.slice(0, eq), part.slice(eq + 1)];
    if (v === '') continue;
    if (key === 'mem') c.memBytes = size(key, v);
    else if (key === 'root-disk') c.rootDiskBytes = size(key, v);
    else if (key === 'cores' || key === 'cpu-cores') {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new SigilError('invalid-params', `constraint cores="${v}" is not a positive number`);
      c.cores = n;
    }
  }
  return c;
}

export const CFS_PERIOD_US = 100_000;

/**
 * cgroup v1 settings for the constraints, in the order LXC must write them to a fresh
 * (unlimited) cgroup: memory before memsw, because memsw may never be below memory.
 * memsw equal to memory means "no swap beyond the limit"; it is set only where the
 * kernel accounts swap.
 */
export function cgroupSettings(c: Constraints, swapAccounting: boolean): [string, string][] {
  const out: [string, string][] = [];
  if (c.memBytes !== undefined) {
    out.push(['memory.limit_in_bytes', String(c.memBytes)]);
    if (swapAccounting) out.push(['memory.memsw.limit_in_bytes', String(c.memBytes)]);
  }
  if (c.cores !== undefined) {
    out.push(['cpu.cfs_period_us', String(CFS_PERIOD_US)]);
    out.push(['cpu.cfs_quota_us', String(Math.round(c.cores * CFS_PERIOD_US))]);
  }
  return out;
}

/**
 * The order to change a running container's memory limits in: raising must widen memsw
 * first and lowering must narrow memory first, or the kernel refuses the write.
 */
export function memoryResizeOrder(current: number, next: number): ('memory.limit_in_bytes' | 'memory.memsw.limit_in_bytes')[] {
  return next > current ? ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes'] : ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'];
}

export interface ContainerConfig {
  lxcpath: string;
  name: string;
  hostname: string;
  lowerdir: string;
  upperdir: string;
  bridge: string;
  address: string;
  nodeBinary: string;
  distDir: string;
  constraints: Constraints;
  swapAccounting: boolean;
}

/** A host-unique veth name (at most 15 characters) derived from the container's identity. */
export function vethName(lxcpath: string, name: string): string {
  return 'sg' + createHash('sha1').update(`${lxcpath}\0${name}`).digest('hex').slice(0, 11);
}

/** fstab fields separate on whitespace; octal escapes keep paths with spaces whole. */
function fstabPath(p: string): string {
  return p.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
}

/**
 * The LXC config of one machine: a privileged system container booting systemd on an
 * overlay of the base image, with a static address on Sigil's bridge and no gateway, and
 * the host's Node and agent bundle mounted read-only.
 */
export function renderConfig(m: ContainerConfig): string {
  const lines = [
    '# Written by Sigil. Changes are lost when the machine is recreated.',
    'lxc.include = /usr/share/lxc/config/common.conf',
    'lxc.arch = linux64',
    `lxc.uts.name = ${m.hostname}`,
    `lxc.rootfs.path = overlay:${m.lowerdir}:${m.upperdir}`,
    // The kernel has no AppArmor; systemd stops cleanly on SIGRTMIN+3, not LXC's default SIGPWR.
    'lxc.apparmor.profile = unconfined',
    'lxc.signal.halt = SIGRTMIN+3',
    // With cgroup namespaces LXC skips cgroup:mixed unless forced, and systemd's own mount
    // of cpu,cpuacct fails on a host with separate cpu and cpuacct hierarchies.
    'lxc.mount.auto =',
    'lxc.mount.auto = proc:mixed sys:ro cgroup:mixed:force',
    `lxc.mount.entry = ${fstabPath(m.nodeBinary)} usr/local/bin/node none bind,ro,create=file 0 0`,
    `lxc.mount.entry = ${fstabPath(m.distDir)} opt/sigil/dist none bind,ro,create=dir 0 0`,
    // The `loop` storage pool (issue 20): the agent attaches loop devices (block 7:*) through
    // the host's /dev/loop-control and makes the device node it was given.
    'lxc.cgroup.devices.allow = c 10:237 rwm',
    'lxc.cgroup.devices.allow = b 7:* rwm',
    'lxc.mount.entry = /dev/loop-control dev/loop-control none bind,optional,create=file 0 0',
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${m.bridge}`,
    'lxc.net.0.flags = up',
    'lxc.net.0.name = eth0',
    `lxc.net.0.veth.pair = ${vethName(m.lxcpath, m.name)}`,
    `lxc.net.0.ipv4.address = ${m.address}/24`,
    `lxc.log.file = ${m.lxcpath}/${m.name}/lxc.log`,
    'lxc.log.level = ERROR',
    ...cgroupSettings(m.constraints, m.swapAccounting).map(([k, v]) => `lxc.cgroup.${k} = ${v}`),
  ];
  return lines.join('\n') + '\n';
}

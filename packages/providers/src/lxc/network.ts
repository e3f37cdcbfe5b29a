import { writeFile } from 'node:fs/promises';
import { SigilError } from '@sigil/core';
import { run, runOk } from './run.ts';

/** Sigil's one bridge: a private /24 it owns; the host is .1, machines get .2 to .254. */
export interface BridgeConfig {
  /** At most 15 characters (a Linux interface name). */
  name: string;
  /** An IPv4 /24 in CIDR form, e.g. 10.231.0.0/24. */
  subnet: string;
}

export interface Subnet {
  /** The first three octets, e.g. "10.231.0". */
  prefix: string;
  gateway: string;
  cidr: string;
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr.trim());
  if (!m || [m[1], m[2], m[3]].some((o) => Number(o) > 255)) {
    throw new SigilError('invalid-config', `bridge subnet "${cidr}" is not an IPv4 /24 like 10.231.0.0/24`);
  }
  const prefix = `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`;
  return { prefix, gateway: `${prefix}.1`, cidr: `${prefix}.0/24` };
}

/**
 * The next free machine address after `last` (the host number handed out before),
 * wrapping from .254 to .2; the gateway (.1) and broadcast are never given. Going round
 * rather than reusing the lowest free address keeps a removed machine's address (and its
 * ssh host key in someone's known_hosts, its entry in neighbours' ARP caches) out of use
 * for as long as possible.
 */
export function pickAddress(subnet: Subnet, used: ReadonlySet<string>, last = 1): string {
  for (let k = 0; k < 253; k++) {
    const i = ((last - 1 + k) % 253) + 2;
    const a = `${subnet.prefix}.${i}`;
    if (!used.has(a)) return a;
  }
  throw new SigilError('unavailable', `no free address left in ${subnet.cidr}`, 'remove machines, or bootstrap with a larger private subnet per controller');
}

interface IpAddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function addresses(): Promise<IpAddrInfo[]> {
  return JSON.parse(await runOk('ip', ['-j', 'addr', 'show'])) as IpAddrInfo[];
}

export async function bridgeExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name])).code === 0;
}

/**
 * Creates the bridge with the gateway address and brings it up; a bridge that is already
 * set up is left alone. Only the connected route of the /24 appears: no default route,
 * no forwarding, no NAT, so machines reach nothing beyond the host and each other.
 * Refuses a subnet that another interface of the host already uses.
 */
export async function ensureBridge(cfg: BridgeConfig): Promise<Subnet> {
  const subnet = parseSubnet(cfg.subnet);
  if (cfg.name.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(cfg.name)) {
    throw new SigilError('invalid-config', `bridge name "${cfg.name}" is not a valid interface name (at most 15 characters)`);
  }
  for (const i of await addresses()) {
    if (i.ifname === cfg.name) continue;
    const clash = (i.addr_info ?? []).find((a) => a.family === 'inet' && a.local.startsWith(subnet.prefix + '.'));
    if (clash) throw new SigilError('conflict', `subnet ${subnet.cidr} is already used by ${i.ifname} (${clash.local})`, 'configure another private /24 for the bridge');
  }
  if (!(await bridgeExists(cfg.name))) await runOk('ip', ['link', 'add', 'name', cfg.name, 'type', 'bridge']);
  // IPv6 would only add router solicitations and multicast chatter on the bridge.
  await writeFile(`/proc/sys/net/ipv6/conf/${cfg.name}/disable_ipv6`, '1').catch(() => {});
  const mine = (await addresses()).find((i) => i.ifname === cfg.name);
  if (!(mine?.addr_info ?? []).some((a) => a.family === 'inet' && a.local === subnet.gateway && a.prefixlen === 24)) {
    await runOk('ip', ['addr', 'add', `${subnet.gateway}/24`, 'dev', cfg.name]);
  }
  await runOk('ip', ['link', 'set', 'dev', cfg.name, 'up']);
  return subnet;
}

/** Deletes the bridge (and with it its address and route); a missing bridge is fine. */
export async function deleteBridge(name: string): Promise<void> {
  if (await bridgeExists(name)) await runOk('ip', ['link', 'del', 'dev', name]);
}

import { SigilError } from './errors.ts';

/**
 * Containers on machines (issue 13), as Juju places them: `lxc:N` (Juju's `lxd:N` is an
 * alias) is a new LXC system container on machine N, whose id is `N/lxc/M`.
 */
export interface ContainerPlacement {
  type: 'lxc';
  /** The host machine's id. */
  parent: string;
}

const MACHINE_ID = /^\d+$/;

/**
 * `lxc:3` or `lxd:3` → a container on machine 3; any other placement → undefined. Kinds
 * Sigil cannot make (`kvm:`), a container inside a container, and a missing host are refused.
 */
export function parseContainerPlacement(placement: string): ContainerPlacement | undefined {
  const m = /^(lxc|lxd|kvm):(.*)$/.exec(placement);
  if (!m) return undefined;
  const [, kind, parent] = m as unknown as [string, string, string];
  if (kind === 'kvm') throw new SigilError('bad-request', `placement "${placement}": kvm containers are not supported`, `use lxc:${parent || 'N'} (Juju's lxd:N is accepted too) for a system container on machine N`);
  if (parent === '') throw new SigilError('bad-request', `placement "${placement}" names no machine`, `give the host machine's id, e.g. ${kind}:0 (see \`sigil status\`)`);
  if (isContainerId(parent)) throw new SigilError('bad-request', `placement "${placement}": machine ${parent} is a container, and containers inside containers are not supported`, `place the container on its host instead: lxc:${containerHost(parent)}`);
  if (!MACHINE_ID.test(parent)) throw new SigilError('bad-request', `placement "${placement}": "${parent}" is not a machine id`, `give the host machine's id, e.g. ${kind}:0 (see \`sigil status\`)`);
  return { type: 'lxc', parent };
}

/** `0/lxc/1` → true; `0` → false. */
export function isContainerId(id: string): boolean {
  return /^\d+\/lxc\/\d+$/.test(id);
}

/** The host of container `0/lxc/1` (`0`), or undefined for a machine that is not a container. */
export function containerHost(id: string): string | undefined {
  return isContainerId(id) ? id.slice(0, id.indexOf('/')) : undefined;
}

import { describe, expect, it } from 'vitest';
import { containerHost, isContainerId, parseContainerPlacement } from './container-placement.ts';

describe('container placement', () => {
  it('parses lxc:N and Juju\'s lxd:N alias; other placements are not containers', () => {
    expect(parseContainerPlacement('lxc:3')).toEqual({ type: 'lxc', parent: '3' });
    expect(parseContainerPlacement('lxd:0')).toEqual({ type: 'lxc', parent: '0' });
    expect(parseContainerPlacement('3')).toBeUndefined();
    expect(parseContainerPlacement('new')).toBeUndefined();
    expect(parseContainerPlacement('ssh:root@h')).toBeUndefined();
  });

  it('refuses kvm, a missing host, a container as host and a bad id, with hints', () => {
    expect(() => parseContainerPlacement('kvm:1')).toThrow(/kvm containers are not supported/);
    expect(() => parseContainerPlacement('lxc:')).toThrow(/names no machine/);
    expect(() => parseContainerPlacement('lxd:0/lxc/1')).toThrow(/containers inside containers.*/);
    expect(() => parseContainerPlacement('lxc:web')).toThrow(/"web" is not a machine id/);
    try { parseContainerPlacement('lxd:0/lxc/1'); } catch (e) { expect((e as { hint?: string }).hint).toContain('lxc:0'); }
  });

  it('knows container ids and their hosts', () => {
    expect(isContainerId('0/lxc/1')).toBe(true);
    expect(isContainerId('12')).toBe(false);
    expect(containerHost('12/lxc/3')).toBe('12');
    expect(containerHost('12')).toBeUndefined();
  });
});

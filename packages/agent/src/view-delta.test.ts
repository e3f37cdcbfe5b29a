import { describe, expect, it } from 'vitest';
import { VIEW_MAX_KNOWN, type MachineViewDelta, type RelationView, type UnitCore } from '@sigil/api';
import { knownHashes, mergeView } from './view-delta.ts';
import { relation, unitView } from './resolver/resolver-kit.ts';

const { relations: _, ...core0 } = unitView({ name: 'a/0', app: 'a' });
const core = (over: Partial<UnitCore> = {}): UnitCore => ({ ...core0, ...over });
const rel = (over: Partial<RelationView> & { id: number }): RelationView => relation(over.id, 'db', 'b', over);
const head = { model: { name: 'm', uuid: 'u', life: 'alive', updateStatusInterval: '5m', retryHooks: true, proxy: { 'juju-http-proxy': '', 'juju-https-proxy': '', 'juju-ftp-proxy': '', 'juju-no-proxy': '', 'apt-http-proxy': '', 'apt-https-proxy': '', 'apt-ftp-proxy': '', 'apt-no-proxy': '' } }, machine: { id: '0', life: 'alive', address: '10.0.0.1', hostname: 'h', sshKeys: [], rotateCredential: false } };

const snapshot: MachineViewDelta = {
  ...head,
  revision: 10,
  units: [{ name: 'a/0', hash: 'c1', core: core(), relations: [{ id: 1, hash: 'r1', view: rel({ id: 1 }) }, { id: 2, hash: 'r2', view: rel({ id: 2 }) }] }],
};

describe('mergeView', () => {
  it('takes a snapshot whole', () => {
    const held = mergeView(undefined, snapshot)!;
    expect(held.view).toEqual({ ...head, revision: 10, units: [{ ...core(), relations: [rel({ id: 1 }), rel({ id: 2 })] }] });
    expect(knownHashes(held).sort()).toEqual(['c1', 'r1', 'r2']);
  });

  it('keeps the parts sent without a body and replaces the others', () => {
    const held = mergeView(undefined, snapshot)!;
    const next = mergeView(held, {
      ...head,
      revision: 12,
      units: [{ name: 'a/0', hash: 'c2', core: core({ config: { token: 'x' } }), relations: [{ id: 1, hash: 'r1' }, { id: 2, hash: 'r2b', view: rel({ id: 2, members: { 'b/0': 3 } }) }] }],
    })!;
    expect(next.view.revision).toBe(12);
    expect(next.view.units).toEqual([{ ...core({ config: { token: 'x' } }), relations: [rel({ id: 1 }), rel({ id: 2, members: { 'b/0': 3 } })] }]);
    // What is no longer in the view is no longer held, nor named in the next request.
    expect(knownHashes(next).sort()).toEqual(['c2', 'r1', 'r2b']);
  });

  it('follows units and relations that come and go', () => {
    const held = mergeView(undefined, snapshot)!;
    const next = mergeView(held, {
      ...head,
      revision: 13,
      units: [
        { name: 'a/0', hash: 'c1', relations: [{ id: 2, hash: 'r2' }] },
        { name: 'sub/0', hash: 's1', core: core({ name: 'sub/0', app: 'sub', principal: 'a/0' }), relations: [] },
      ],
    })!;
    expect(next.view.units.map((u) => [u.name, u.relations.map((r) => r.id)])).toEqual([['a/0', [2]], ['sub/0', []]]);
  });

  it('refuses a part it neither received nor holds (the agent then asks for a snapshot)', () => {
    expect(mergeView(undefined, { ...snapshot, units: [{ name: 'a/0', hash: 'c1', relations: [] }] })).toBeUndefined();
    const held = mergeView(undefined, snapshot)!;
    expect(mergeView(held, { ...snapshot, units: [{ name: 'a/0', hash: 'c1', relations: [{ id: 3, hash: 'r3' }] }] })).toBeUndefined();
  });
});

describe('knownHashes', () => {
  it('names nothing when nothing is held, or more than a request may carry', () => {
    expect(knownHashes(undefined)).toEqual([]);
    const many: MachineViewDelta = { ...head, revision: 1, units: [{ name: 'a/0', hash: 'c', core: core(), relations: Array.from({ length: VIEW_MAX_KNOWN }, (_, i) => ({ id: i, hash: `r${i}`, view: rel({ id: i }) })) }] };
    expect(knownHashes(mergeView(undefined, many))).toEqual([]);
  });
});

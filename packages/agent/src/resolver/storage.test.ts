import type { UnitStorageView } from '@sigil/api';
import { describe, expect, it } from 'vitest';
import { drive, settled, world } from './resolver-kit.ts';

const store = (id: string, over: Partial<UnitStorageView> = {}): UnitStorageView => ({
  id, name: id.split('/')[0]!, kind: 'filesystem', pool: 'rootfs', size: 1024, location: '/srv/data', multiple: false, life: 'alive', destroy: false, status: 'pending', ...over,
});

describe('storage hooks (Juju order)', () => {
  it('a new unit runs storage-attached for each of its stores before install', () => {
    const w = world({ storage: [store('data/1'), store('logs/0'), store('data/0')] });
    expect(drive(w).trace).toEqual(['data-storage-attached', 'data-storage-attached', 'logs-storage-attached', 'install', 'leader-elected', 'config-changed', 'start']);
    expect(Object.keys(w.local.storage ?? {})).toEqual(['data/0', 'data/1', 'logs/0']);
  });

  it('storage added later (add-storage, storage-add) attaches on a started unit', () => {
    const w = settled({ storage: [store('data/0')] });
    w.unit = { ...w.unit, storage: [store('data/0'), store('data/3')] };
    const run = drive(w);
    expect(run.trace).toEqual(['data-storage-attached']);
    expect(run.hooks[0]!.storageId).toBe('data/3');
  });

  it('detach-storage runs storage-detaching once; a unit going away detaches before stop', () => {
    const w = settled({ storage: [store('data/0'), store('data/1')] });
    w.unit = { ...w.unit, storage: [store('data/0'), store('data/1', { life: 'dying' })] };
    expect(drive(w).trace).toEqual(['data-storage-detaching']);
    expect(drive(w).trace).toEqual([]);
    w.unit = { ...w.unit, life: 'dying', storage: [store('data/0')] };
    expect(drive(w).trace).toEqual(['data-storage-detaching', 'stop', 'remove', 'set-dead']);
  });

  it('no storage-attached on a dying unit, and storage gone from the view is detached locally', () => {
    const w = settled({ storage: [store('data/0')] });
    w.unit = { ...w.unit, storage: [] };
    expect(drive(w).trace).toEqual(['data-storage-detaching']);
    const dying = world({ life: 'dying', storage: [store('data/0')] });
    expect(drive(dying).trace).not.toContain('data-storage-attached');
  });
});

describe('resources', () => {
  it('an upload after install fires upgrade-charm (then config-changed and start); the same content does not', () => {
    const w = settled({ resources: [{ name: 'theme', filename: 'theme.zip', fingerprint: 'aa', size: 3 }] });
    expect(drive(w).trace).toEqual([]);
    w.unit = { ...w.unit, resources: [{ name: 'theme', filename: 'theme.zip', fingerprint: 'bb', size: 4 }] };
    expect(drive(w).trace).toEqual(['upgrade-charm', 'config-changed', 'start']);
    expect(drive(w).trace).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { GuiApp, GuiMessage, GuiModel, GuiUnit } from '@sigil/api';
import { EMPTY, applyMessages, changedOperations } from './model-store.ts';

const app = (name: string): GuiApp => ({ name, charmUrl: 'local:c-0', exposed: false, scale: 1, life: 'alive', annotations: {}, status: null, leader: null });
const unit = (name: string, workload = 'active'): GuiUnit => ({ name, app: name.split('/')[0]!, machine: '0', principal: null, life: 'alive', workload: { current: workload, message: '' }, agent: { current: 'idle', message: '' }, ports: [], published: [] });
const model: GuiModel = { name: 'm', apps: { a: app('a') }, units: { 'a/0': unit('a/0') }, relations: {}, machines: {}, charms: {} };
const snapshot: GuiMessage = { type: 'snapshot', rev: 10, model };

describe('applyMessages', () => {
  it('starts from a snapshot, then applies puts and removes in order', () => {
    const s = applyMessages(EMPTY, [snapshot, { type: 'deltas', rev: 12, deltas: [
      { kind: 'unit', op: 'put', value: unit('a/1', 'waiting') },
      { kind: 'unit', op: 'put', value: unit('a/0', 'error') },
      { kind: 'app', op: 'remove', key: 'a' },
      { kind: 'unit', op: 'remove', key: 'a/1' },
    ] }]);
    expect(s.rev).toBe(12);
    expect(Object.keys(s.model!.apps)).toEqual([]);
    expect(Object.keys(s.model!.units)).toEqual(['a/0']);
    expect(s.model!.units['a/0']!.workload.current).toBe('error');
  });

  it('never changes the state it was given, and keeps untouched collections and entities', () => {
    const before = applyMessages(EMPTY, [snapshot]);
    const after = applyMessages(before, [{ type: 'deltas', rev: 11, deltas: [{ kind: 'unit', op: 'put', value: unit('a/0', 'blocked') }] }]);
    expect(before.model!.units['a/0']!.workload.current).toBe('active');
    expect(after.model!.apps).toBe(before.model!.apps);
    expect(after.model!.units).not.toBe(before.model!.units);
  });

  it('returns the same state for messages that change nothing', () => {
    const s = applyMessages(EMPTY, [snapshot]);
    expect(applyMessages(s, [])).toBe(s);
    expect(applyMessages(s, [{ type: 'deltas', rev: 10, deltas: [{ kind: 'operation', op: 'put', key: 'a/0#4' }] }])).toBe(s);
  });

  it('drops deltas that arrive before any snapshot, and a later snapshot replaces everything', () => {
    const early = applyMessages(EMPTY, [{ type: 'deltas', rev: 3, deltas: [{ kind: 'app', op: 'put', value: app('x') }] }]);
    expect(early.model).toBeUndefined();
    const s = applyMessages(early, [snapshot, { type: 'deltas', rev: 11, deltas: [{ kind: 'app', op: 'put', value: app('b') }] }, { ...snapshot, rev: 20 }]);
    expect(Object.keys(s.model!.apps)).toEqual(['a']);
    expect(s.rev).toBe(20);
  });

  it('keys relations by id and charms by URL', () => {
    const s = applyMessages(EMPTY, [snapshot, { type: 'deltas', rev: 11, deltas: [
      { kind: 'relation', op: 'put', value: { id: 7, key: 'a:x b:y', life: 'alive', endpoints: [] } },
      { kind: 'charm', op: 'put', value: { url: 'local:c-1', name: 'c', summary: '', subordinate: false, endpoints: [], config: {}, actions: {} } },
    ] }]);
    expect(Object.keys(s.model!.relations)).toEqual(['7']);
    expect(Object.keys(s.model!.charms)).toEqual(['local:c-1']);
  });

  it('reports which operations changed, so an action form can fetch its result', () => {
    expect(changedOperations([snapshot, { type: 'deltas', rev: 11, deltas: [{ kind: 'operation', op: 'put', key: 'a/0#4' }, { kind: 'app', op: 'put', value: app('a') }] }])).toEqual(['a/0#4']);
  });
});

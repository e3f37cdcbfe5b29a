// The model's limits against a real store: each refusal names its limit and how to raise
// it, and changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookCommit } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';

const files = (meta: string, config = '') => ({
  files: [
    { path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') },
    ...(config ? [{ path: 'config.yaml', mode: 0o644, data: Buffer.from(config).toString('base64') }] : []),
  ],
});
const CHARM = files('name: big\nsummary: s\ndescription: d\nprovides:\n  out: {interface: token}\nrequires:\n  in: {interface: token}\n', 'options:\n  blob: {type: string, default: "", description: d}\n');

let dir: string;
let svc: Services;
let url: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-limits-'));
  svc = new Services(new Store(openTestDb(dir)), silentLogger, 'test', 'x', join(dir, 'controller.log'), () => {});
  svc.models.add('m');
  url = svc.charms.add('m', CHARM).url;
  svc.applications.deploy({ model: 'm', app: 'a', charmUrl: url, numUnits: 1, config: {}, constraints: '', to: [] });
  svc.applications.deploy({ model: 'm', app: 'b', charmUrl: url, numUnits: 1, config: {}, constraints: '', to: [] });
});

afterAll(() => {
  svc.store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `f`, expecting a refusal; returns it and checks that the store did not move. */
function refused(f: () => unknown): SigilError {
  const before = svc.store.revision();
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SigilError);
  expect(svc.store.revision()).toBe(before);
  return err as SigilError;
}

describe('model limits', () => {
  it('refuses more units in one call than max-units-per-call, naming the key, until it is raised', () => {
    const e = refused(() => svc.units.add('m', 'a', 100_000));
    expect(e.code).toBe('too-large');
    expect(e.message).toBe('cannot add 100000 units in one call: the limit is 200');
    expect(e.hint).toContain('sigil model-config max-units-per-call=100000');
    expect(svc.reads.units('m', 'a')).toHaveLength(1);
    expect(refused(() => svc.applications.deploy({ model: 'm', app: 'c', charmUrl: url, numUnits: 201, config: {}, constraints: '', to: [] })).code).toBe('too-large');
    expect(svc.reads.app('m', 'c')).toBeUndefined();
    svc.models.setConfig('m', { 'max-units-per-call': '300' });
    expect(svc.units.add('m', 'a', 201)).toHaveLength(201);
  });

  it('refuses a config value over max-config-value-size', () => {
    const e = refused(() => svc.applications.setConfig('m', 'a', { blob: 'x'.repeat(1024 ** 2 + 1) }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/^config value blob is 1M, over the limit of 1M \(max-config-value-size\)$/);
    expect(e.hint).toContain('sigil model-config max-config-value-size=');
    svc.applications.setConfig('m', 'a', { blob: 'x'.repeat(1000) });
    expect(svc.applications.getConfig('m', 'a')).toMatchObject({ settings: { blob: { value: 'x'.repeat(1000) } } });
  });

  it('refuses a relation bag or charm state over its limit, writing nothing of the hook', () => {
    const rel = svc.relations.integrate('m', 'a:out', 'b:in');
    const commit = (c: Partial<HookCommit>): HookCommit => ({ unit: 'a/0', hook: 'install', relationUnit: {}, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [], ...c });
    const big = 'y'.repeat(600 * 1024);
    svc.agent.commit('m', commit({ relationUnit: { [rel.id]: { one: big } } }));
    const e = refused(() => svc.agent.commit('m', commit({ relationUnit: { [rel.id]: { two: big } }, unitStatus: { status: 'active', message: 'should not land' } })));
    expect(e.message).toBe(`the unit bag of a/0 in relation ${rel.id} is 1.2M, over the limit of 1M (max-relation-bag-size)`);
    expect(svc.reads.unit('m', 'a/0')!.workload.message).not.toBe('should not land');
    expect(refused(() => svc.agent.commit('m', commit({ unitState: { k: 'z'.repeat(3 * 1024 ** 2) } }))).message).toMatch(/charm state of a\/0 .* \(max-charm-state-size\)/);
  });

  it('refuses names that could not be managed afterwards, at deploy and add-model', () => {
    const long = 'a'.repeat(101);
    expect(refused(() => svc.applications.deploy({ model: 'm', app: long, charmUrl: url, numUnits: 1, config: {}, constraints: '', to: [] })).hint).toContain('at most 50 characters');
    expect(refused(() => svc.models.add('m'.repeat(41))).hint).toContain('at most 40 characters');
    svc.applications.deploy({ model: 'm', app: 'a'.repeat(50), charmUrl: url, numUnits: 0, config: {}, constraints: '', to: [] });
  });

  it('checks model-config limit values', () => {
    expect(refused(() => svc.models.setConfig('m', { 'max-relation-bag-size': 'lots' })).message).toBe('invalid size "lots"');
    expect(refused(() => svc.models.setConfig('m', { 'max-units-per-call': '0' })).code).toBe('invalid-config');
  });
});

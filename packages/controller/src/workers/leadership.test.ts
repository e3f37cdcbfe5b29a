import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEADERSHIP_LEASE_MS } from '@sigil/api';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Models } from '../domain/models.ts';
import { Charms } from '../domain/charms.ts';
import { Applications } from '../domain/applications.ts';
import { Reads } from '../state/rows.ts';
import { silentLogger } from '../logger.ts';
import { UNSEEN_LEASE_MS, chooseLeader, elect, leadershipKeysOf, type Candidate } from './leadership.ts';
import type { WorkerContext } from './context.ts';

describe('chooseLeader', () => {
  const u = (name: string, o: Partial<Candidate> = {}): Candidate => ({ name, life: 'alive', holdsLease: true, connected: true, ...o });
  const cases: [string, string | null, Candidate[], string | null][] = [
    ['the lowest-numbered unit leads a new application', null, [u('a/10'), u('a/2'), u('a/9')], 'a/2'],
    ['before any agent connects too', null, [u('a/1', { connected: false, holdsLease: false }), u('a/0', { connected: false, holdsLease: false })], 'a/0'],
    ['a leader holding its lease keeps it, whoever else connects', 'a/3', [u('a/0'), u('a/3', { connected: false })], 'a/3'],
    ['a leader whose lease ran out gives way to the lowest connected unit', 'a/0', [u('a/0', { connected: false, holdsLease: false }), u('a/1', { connected: false, holdsLease: false }), u('a/2')], 'a/2'],
    ['a leader without its lease stays while no other agent is connected', 'a/0', [u('a/0', { connected: false, holdsLease: false }), u('a/1', { connected: false, holdsLease: false })], 'a/0'],
    ['a dying leader gives way at once', 'a/0', [u('a/0', { life: 'dying' }), u('a/1')], 'a/1'],
    ['a gone leader too, even to a unit not connected yet', 'a/0', [u('a/1', { connected: false, holdsLease: false })], 'a/1'],
    ['no alive unit: no leader', 'a/0', [u('a/0', { life: 'dying' })], null],
  ];
  it.each(cases)('%s', (_what, current, units, leader) => {
    expect(chooseLeader(current, units)).toBe(leader);
  });
});

describe('leadershipKeysOf', () => {
  it('wakes the applications changed and those whose units changed, not for status reports', () => {
    const c = (kind: string, key: string, op: 'change' | 'remove' | 'status' = 'change') => ({ rev: 1, model: 'm', kind, key, op });
    expect(leadershipKeysOf({} as WorkerContext, [c('unit', 'web/3'), c('unit', 'web/4', 'remove'), c('application', 'db'), c('unit', 'cache/0', 'status'), c('relation', '1'), c('machine', '0')])).toEqual(['m/web', 'm/db']);
  });
});

describe('elect on a real store', () => {
  const M = 'm';
  const WEB = { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from('name: web\nsummary: s\ndescription: d\n').toString('base64') }] };
  let dir: string;
  let store: Store;
  let reads: Reads;
  const away = new Map<string, number>();
  const seen = new Set<string>();
  let ctx: WorkerContext;
  const leader = () => reads.apps(M).find((a) => a.name === 'web')!.leader;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sigil-leadership-'));
    store = new Store(openTestDb(dir));
    new Models(store).add(M);
    reads = new Reads(store);
    new Applications(store).deploy({ model: M, app: 'web', charmUrl: new Charms(store).add(M, WEB).url, numUnits: 3, config: {}, constraints: '', to: [] });
    away.clear();
    seen.clear();
    ctx = {
      store, log: silentLogger,
      connected: (_m: string, id: string) => (away.get(id) ?? 0) === 0 && seen.has(id),
      awayMs: (_m: string, id: string) => away.get(id) ?? 0,
      seen: (_m: string, id: string) => seen.has(id),
    } as unknown as WorkerContext;
  });
  afterEach(() => {
    store.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves leadership off a machine whose agent has been away longer than the lease, and only then', () => {
    elect(ctx, 'm/web');
    expect(leader()).toBe('web/0');
    for (const id of ['0', '1', '2']) seen.add(id);
    const m0 = reads.unit(M, 'web/0')!.machine!;
    away.set(m0, LEADERSHIP_LEASE_MS - 1000);
    elect(ctx, 'm/web');
    expect(leader()).toBe('web/0');
    away.set(m0, LEADERSHIP_LEASE_MS);
    elect(ctx, 'm/web');
    expect(leader()).toBe('web/1');
    // Back again: it does not take the role back (the new leader holds its lease).
    away.delete(m0);
    elect(ctx, 'm/web');
    expect(leader()).toBe('web/1');
  });

  it('keeps a leader whose agent has not connected since the controller started for a few minutes (a boot, a restart), then moves it', () => {
    const unseen = new Map<string, number>();
    const t0 = 1_000_000;
    elect(ctx, 'm/web', unseen, t0);
    expect(leader()).toBe('web/0');
    seen.add(reads.unit(M, 'web/1')!.machine!);
    elect(ctx, 'm/web', unseen, t0 + UNSEEN_LEASE_MS - 1000);
    expect(leader()).toBe('web/0');
    elect(ctx, 'm/web', unseen, t0 + UNSEEN_LEASE_MS);
    expect(leader()).toBe('web/1');
  });
});

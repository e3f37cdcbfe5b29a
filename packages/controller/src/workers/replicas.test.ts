// Replicas sharing one store: leases spread between them, move when one stops renewing, and
// fence the writes of one that lost its lease. Runs on SQLite (two connections to one file)
// and, in the postgresql project, on two connections to one PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { openDb, type Db } from '../store/db.ts';
import { openPgDb } from '../store/pg/pg-db.ts';
import { Store } from '../store/store.ts';
import { openTestDb, testStoreKind } from '../store/test-store.ts';
import { LeaseLost, ReplicaRepository } from '../state/replicas.ts';
import { PresenceTracker } from '../apiserver/presence.ts';
import { CONTROLLER_LEASE, ReplicaMembership, decideLeases, eligibleNow, modelLease } from './replicas.ts';

describe('decideLeases', () => {
  const none = new Map<string, string>();
  it.each([
    { what: 'a lone replica takes everything', held: [], wanted: ['controller', 'model/a', 'model/b'], holders: none, alive: 1, take: ['controller', 'model/a', 'model/b'], give: [] },
    { what: 'a second replica takes its share of what is free', held: [], wanted: ['controller', 'model/a', 'model/b'], holders: new Map([['controller', 'r0'], ['model/a', 'r0']]), alive: 2, take: ['model/b'], give: [] },
    { what: 'one above its share gives back its newest model, never first the controller', held: ['controller', 'model/a', 'model/b'], wanted: ['controller', 'model/a', 'model/b'], holders: none, alive: 2, take: [], give: ['model/b'] },
    { what: 'a lease on what is gone goes back', held: ['controller', 'model/gone'], wanted: ['controller'], holders: none, alive: 1, take: [], give: ['model/gone'] },
    { what: 'nothing is taken from a live holder', held: ['model/a'], wanted: ['controller', 'model/a'], holders: new Map([['controller', 'r1']]), alive: 1, take: [], give: [] },
  ])('$what', ({ held, wanted, holders, alive, take, give }) => {
    expect(decideLeases({ held, wanted, holders, alive })).toEqual({ take, give });
  });

  it('a replica that may not act takes nothing and gives back all it holds', () => {
    expect(decideLeases({ held: ['controller', 'model/a'], wanted: ['controller', 'model/a', 'model/b'], holders: none, alive: 1, eligible: false })).toEqual({ take: [], give: ['controller', 'model/a'] });
  });
});

describe('eligibleNow', () => {
  it.each([
    { what: 'only replicas on the provider\'s host while one of them lives', alive: [{ id: 'r0', home: true }, { id: 'r1', home: false }, { id: 'r2', home: true }], want: ['r0', 'r2'] },
    { what: 'every live replica once none on that host is left', alive: [{ id: 'r1', home: false }, { id: 'r3', home: false }], want: ['r1', 'r3'] },
    { what: 'nobody when nothing is alive', alive: [], want: [] },
  ])('$what', ({ alive, want }) => {
    expect([...eligibleNow(alive)].sort()).toEqual(want);
  });
});

describe('replicas on one store', () => {
  let dir = '';
  const opened: Store[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Two stores on one database, as two controller processes have. */
  function twoStores(): [Store, Store] {
    dir = mkdtempSync(join(tmpdir(), 'sigil-replicas-'));
    const first: Db = openTestDb(dir);
    const second: Db = testStoreKind() === 'sqlite' ? openDb(join(dir, 'state.db')) : openPgDb({ url: first.name, password: process.env.SIGIL_TEST_PG_PASSWORD! });
    const stores: [Store, Store] = [new Store(first), new Store(second)];
    opened.push(...stores);
    return stores;
  }

  const log = createLogger('silent');
  function member(store: Store, id: string, wanted: string[], ttlMs = 1500, home = true) {
    const events: string[] = [];
    const m = new ReplicaMembership(store, {
      id, url: `https://127.0.0.1:1707${id.slice(1)}`, agentUrl: `https://127.0.0.1:1707${id.slice(1)}`, log, ttlMs, home,
      wanted: () => wanted,
      gained: (key) => events.push(`+${key}`),
      lost: (key) => events.push(`-${key}`),
    });
    return { m, events };
  }

  /** Runs rounds of the given replicas until `done` holds (leases expire with time). */
  async function roundsUntil(done: () => boolean, ...ms: ReplicaMembership[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      for (const m of ms) m.round();
      if (done()) return;
      if (Date.now() > deadline) throw new Error('replicas did not reach the expected leases within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('spread the leases, and the survivor takes a silent replica\'s leases once they expire, with new tokens', async () => {
    const [a, b] = twoStores();
    const wanted = [CONTROLLER_LEASE, modelLease('m1'), modelLease('m2'), modelLease('m3')];
    const r0 = member(a, 'r0', wanted);
    const r1 = member(b, 'r1', wanted);
    r0.m.start();
    expect([...r0.m.leases().keys()].sort()).toEqual([...wanted].sort());
    r1.m.start();
    // r1 joins: r0 gives back what is above its share (2 of 4), r1 takes it.
    await roundsUntil(() => r0.m.leases().size === 2 && r1.m.leases().size === 2, r0.m, r1.m);
    const holders = new ReplicaRepository(a).holders();
    expect(new Set(holders.values())).toEqual(new Set(['r0', 'r1']));
    expect(r0.m.alive().map((r) => r.id)).toEqual(['r0', 'r1']);
    const tokensBefore = r0.m.leases();

    // r0 stops renewing (a kill -9): its leases stay held by it until they expire, then r1 has all four.
    await roundsUntil(() => r1.m.leases().size === 4, r1.m);
    for (const [key, token] of tokensBefore) expect(r1.m.leases().get(key)).toBeGreaterThan(token);
    expect(r0.m.holds(CONTROLLER_LEASE) || r0.m.holds(modelLease('m1'))).toBe(false);
    // r0 comes back: it learns on its first round that it lost them.
    r0.m.round();
    expect(r0.events.filter((e) => e.startsWith('-')).length).toBeGreaterThanOrEqual(2);
  });

  it('keep a replica on another host standing by while one on the provider\'s host lives; it takes over when that one is gone, and gives back when it returns', async () => {
    const [a, b] = twoStores();
    const wanted = [CONTROLLER_LEASE, modelLease('m1'), modelLease('m2')];
    const away = member(b, 'r1', wanted, 1500, false);
    // Alone, the replica elsewhere acts: nothing else can.
    away.m.start();
    expect([...away.m.leases().keys()].sort()).toEqual([...wanted].sort());
    // A replica on the provider's host joins: every lease goes to it, none is shared.
    const home = member(a, 'r0', wanted);
    home.m.start();
    await roundsUntil(() => home.m.leases().size === 3 && away.m.leases().size === 0, away.m, home.m);
    expect(home.m.alive().map((r) => [r.id, r.home])).toEqual([['r0', true], ['r1', false]]);
    for (let i = 0; i < 3; i++) away.m.round();
    expect(away.m.leases().size).toBe(0);
    // The home replica goes silent (its host lost): once its heartbeat and leases expire, the other takes everything.
    await roundsUntil(() => away.m.leases().size === 3, away.m);
    expect(new Set(new ReplicaRepository(b).holders().values())).toEqual(new Set(['r1']));
    // It comes back: the replica elsewhere hands everything back at once (no waiting for expiry).
    await roundsUntil(() => home.m.leases().size === 3 && away.m.leases().size === 0, home.m, away.m);
    expect(away.events.slice(-3).every((e) => e.startsWith('-'))).toBe(true);
  });

  it('fence a write made under a lease that moved on: nothing is written, and the other replica\'s writes go through', async () => {
    const [a, b] = twoStores();
    const wanted = [modelLease('m1')];
    const r0 = member(a, 'r0', wanted);
    r0.m.start();
    const fence = r0.m.fence(modelLease('m1'))!;
    expect(fence).toBeDefined();
    a.fenced(fence, () => a.tx(() => a.db.prepare("INSERT INTO meta (key, value) VALUES ('fenced-ok', '1')").run()));

    // r0 pauses (no renewals) past its lease; r1 takes it.
    const r1 = member(b, 'r1', wanted);
    r1.m.start();
    await roundsUntil(() => r1.m.holds(modelLease('m1')), r1.m);
    expect(() => a.fenced(fence, () => a.tx(() => {
      a.db.prepare("INSERT INTO meta (key, value) VALUES ('fenced-stale', '1')").run();
      a.changed('m1', 'machine', '0');
    }))).toThrow(LeaseLost);
    b.fenced(r1.m.fence(modelLease('m1')), () => b.tx(() => b.db.prepare("INSERT INTO meta (key, value) VALUES ('fenced-new', '1')").run()));
    const keys = (b.db.prepare("SELECT key FROM meta WHERE key LIKE 'fenced-%' ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    expect(keys).toEqual(['fenced-new', 'fenced-ok']);
    // A batched write is checked against its own caller's fence too.
    await expect(a.fenced(fence, () => a.batched(() => a.db.prepare("INSERT INTO meta (key, value) VALUES ('batched-stale', '1')").run()))).rejects.toThrow(LeaseLost);
    await a.batched(() => a.db.prepare("INSERT INTO meta (key, value) VALUES ('batched-unfenced', '1')").run());
    expect(b.db.prepare("SELECT key FROM meta WHERE key LIKE 'batched-%'").all()).toEqual([{ key: 'batched-unfenced' }]);
  });

  it('share which agents are connected to which replica, and forget a dead replica\'s agents', async () => {
    const [a, b] = twoStores();
    const r0 = member(a, 'r0', [], 1500);
    const seenByR1 = new PresenceTracker();
    let changed: { model: string; machine: string }[] = [];
    const r1 = new ReplicaMembership(b, { id: 'r1', url: 'https://127.0.0.1:17071', agentUrl: 'https://127.0.0.1:17071', log, ttlMs: 1500, wanted: () => [], gained: () => {}, lost: () => {}, presence: (rows) => (changed = seenByR1.setRemote(rows)) });
    r0.m.start();
    r1.start();
    const repo = new ReplicaRepository(a);
    repo.connect('r0', 'default', '3', Date.now());
    r1.round();
    expect(changed).toEqual([{ model: 'default', machine: '3' }]);
    expect(seenByR1.connected('default', '3')).toBe(true);
    expect(seenByR1.seen('default', '3')).toBe(true);
    // r0 dies without a word: once its heartbeat is stale its agents count as away.
    await roundsUntil(() => !seenByR1.connected('default', '3'), r1);
    expect(changed).toEqual([{ model: 'default', machine: '3' }]);
    // The agent reconnects to r1 itself: connected again, locally.
    const leave = seenByR1.add('default', '3');
    expect(seenByR1.connected('default', '3')).toBe(true);
    leave();
    expect(seenByR1.awayMs('default', '3')).toBeGreaterThanOrEqual(0);
    expect(seenByR1.connected('default', '3')).toBe(false);
  });

  it('show every replica the ports the model\'s holder published, replaced whole on each change', () => {
    const [a, b] = twoStores();
    new ReplicaRepository(a).recordPublished('default', [{ unit: 'web/0', port: 80, hostPort: 8080 }, { unit: 'web/0', port: 443, hostPort: 443 }, { unit: 'web/1', port: 80, hostPort: 40123 }]);
    const other = new ReplicaRepository(b);
    expect(other.published('default', 'web/0')).toEqual(['*:443->443/tcp', '*:8080->80/tcp']);
    expect(other.published('default', 'web/1')).toEqual(['*:40123->80/tcp']);
    new ReplicaRepository(a).recordPublished('default', [{ unit: 'web/1', port: 80, hostPort: 40123 }]);
    expect(other.published('default', 'web/0')).toEqual([]);
    expect(other.published('other', 'web/1')).toEqual([]);
  });
});

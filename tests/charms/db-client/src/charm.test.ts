import { expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import type { Credentials, Workload } from './workload.ts';

function fake() {
  const calls: unknown[][] = [];
  const w: Workload = {
    installClient: async (e) => void calls.push(['install', e]),
    sql: async (e, c: Credentials, sql) => (calls.push(['sql', e, c, sql]), 'ok\n'),
    memcached: async (h, p, r) => (calls.push(['memcached', h, p, r]), 'VALUE k 0 2\r\nhi\r\nEND\r\n'),
    redis: async (h, p, pw, args) => (calls.push(['redis', h, p, pw, args]), 'PONG\n'),
  };
  return { w, calls };
}

const pg = { endpoint: 'db', id: 1, remoteApp: 'postgresql', remoteUnits: { 'postgresql/0': { host: '10.1.0.5', port: '5432', user: 'u1', password: 'p1', database: 'client' } } };

test('status names what the client is connected to, after every hook', async () => {
  const { w } = fake();
  const s = state(spec, { relations: [pg, { endpoint: 'cache', id: 2, remoteApp: 'memcached', remoteUnits: { 'memcached/0': { host: '10.1.0.6', port: '11211' } } }] });
  const out = await run(build(w), event.relationChanged(s.relations[0]!, 'postgresql/0'), s);
  expect(out.unitStatus).toEqual({ name: 'active', message: 'db: u1@10.1.0.5/client; cache: 10.1.0.6:11211' });
  const none = await run(build(w), event.install(), state(spec));
  expect(none.unitStatus).toEqual({ name: 'waiting', message: 'waiting for a datastore relation' });
});

test('query connects with the relation credentials unless overridden', async () => {
  const { w, calls } = fake();
  const s = state(spec, { relations: [pg] });
  const out = await run(build(w), event.action('query', { endpoint: 'db', sql: 'select 1' }), s);
  expect(out.action?.results).toEqual({ output: 'ok' });
  await run(build(w), event.action('query', { endpoint: 'db', sql: 'select 1', user: 'old', password: 'gone' }), s);
  expect(calls.map((c) => (c[2] as Credentials).user)).toEqual(['u1', 'old']);
});

test('query without a relation fails the action with a hint, not the unit', async () => {
  const { w } = fake();
  const out = await run(build(w), event.action('query', { endpoint: 'mysql', sql: 'select 1' }), state(spec));
  expect(out.action?.failed).toBe('no credentials on "mysql" yet (provider published: nothing)');
});

test('credentials are reported with action-safe keys', async () => {
  const { w } = fake();
  const s = state(spec, { relations: [{ ...pg, remoteUnits: { 'postgresql/0': { host: 'h', schema_user: 'su' } } }] });
  const out = await run(build(w), event.action('credentials', { endpoint: 'db' }), s);
  expect(out.action?.results).toEqual({ host: 'h', 'schema-user': 'su' });
});

test('a relation being broken no longer counts as connected', async () => {
  const { w } = fake();
  const s = state(spec, { relations: [{ ...pg, remoteUnits: {} , remoteAppData: { host: 'h', user: 'u', password: 'p' } }] });
  const out = await run(build(w), event.relationBroken(s.relations[0]!), s);
  expect(out.unitStatus).toEqual({ name: 'waiting', message: 'waiting for a datastore relation' });
});

test('requests the configured database in a batch of relation events and installs the client on create', async () => {
  const { w, calls } = fake();
  const s = state(spec, { config: { database: 'shop' }, relations: [pg] });
  const out = await run(build(w), event.reconcile(), s);
  expect(out.relations[0]!.localUnitData).toEqual({ database: 'shop' });
  await run(build(w), event.relationCreated({ ...s.relations[0]!, remoteUnits: {} }), state(spec, { relations: [{ ...pg, remoteUnits: {} }] }));
  expect(calls).toContainEqual(['install', 'db']);
});

test('cache get returns the value', async () => {
  const { w } = fake();
  const s = state(spec, { relations: [{ endpoint: 'cache', id: 2, remoteApp: 'memcached', remoteUnits: { 'memcached/0': { host: 'h', port: '11211' } } }] });
  const out = await run(build(w), event.action('cache', { op: 'get', key: 'k' }), s);
  expect(out.action?.results).toEqual({ output: 'hi' });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HookToolServer } from '../../agent/src/hook-tools/server.ts';
import { testEnv } from '../../agent/src/hook-tools/testkit.ts';
import { AgentSocket, HookToolError } from './agent-socket.ts';
import { SocketBackend } from './backend.ts';

// The real agent end of the hook tools, in this process: what a charm's calls do on a machine.
const address = `@sigil-sdk-test-${randomBytes(6).toString('hex')}`;
const server = new HookToolServer(address);
const env = testEnv();
const backend = new SocketBackend(new AgentSocket(address, 'ctx', '/tmp'));

beforeAll(async () => {
  await server.start();
  server.register('ctx', env);
});
afterAll(async () => {
  backend.close();
  await server.close();
});

test('reads config, leadership, relations and bags through the agent socket', async () => {
  expect(await backend.config()).toEqual({ blog_title: 'My Blog', port: 80, debug: false, ratio: 1.5 });
  expect(await backend.isLeader()).toBe(true);
  expect(await backend.relationIds('db')).toEqual([2, 10]);
  expect(await backend.relationUnits(2)).toEqual(['mysql/0', 'mysql/1']);
  expect(await backend.relationApp(2)).toBe('mysql');
  expect(await backend.relationGet(2, 'mysql/0', false)).toEqual({ host: '10.0.0.9', password: 's3cret', port: '3306' });
  expect(await backend.relationGet(2, 'mysql', true)).toEqual({ database: 'wp' });
  expect(await backend.address()).toBe('10.0.0.5');
});

test('writes go into the hook\'s change buffer, values with newlines and quotes intact', async () => {
  const cert = '-----BEGIN-----\nabc: "x"\n-----END-----';
  await backend.relationSet(3, { hostname: '10.0.0.5', cert, port: '' }, false);
  await backend.relationSet(3, { services: '- {service_name: wp}' }, true);
  expect(env.changes.relationUnit.get(3)).toEqual({ hostname: '10.0.0.5', cert, port: null }); // null: delete the key
  expect(env.changes.relationApp.get(3)).toEqual({ services: '- {service_name: wp}' });
  expect(await backend.relationGet(3, 'wordpress/0', false)).toMatchObject({ hostname: '10.0.0.5', cert });
  await backend.statusSet('blocked', 'port 80 is taken', false);
  expect(env.changes.unitStatus).toMatchObject({ status: 'blocked', message: 'port 80 is taken' });
  await backend.stateSet({ 'db-password': 'p w' });
  expect(await backend.stateGet()).toMatchObject({ installed: '1', 'db-password': 'p w' });
});

test('many calls in flight on one connection come back in order', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => backend.relationGet(2, i % 2 ? 'mysql/0' : 'mysql/1', false)));
  results.forEach((r, i) => expect(r).toEqual(i % 2 ? { host: '10.0.0.9', password: 's3cret', port: '3306' } : {}));
});

test('a refused call rejects with the tool\'s own error', async () => {
  const err = await backend.relationGet(2, 'nobody/0', false).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HookToolError);
  expect((err as HookToolError).message).toMatch(/^relation-get failed \(exit 1\): /);
  const unknown = new SocketBackend(new AgentSocket(address, 'no-such-context', '/tmp'));
  await expect(unknown.isLeader()).rejects.toThrow(/unknown context id "no-such-context"/);
  unknown.close();
});

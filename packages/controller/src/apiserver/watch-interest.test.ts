// The change feed a machine agent receives, against a real store and server: once it has
// been served its view, only the changes that concern that view (the agent's own rule,
// `concerns`), so one unit's chatter costs the agents it concerns and not every agent.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchMessage } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const file = (path: string, text: string) => ({ path, mode: 0o644, data: Buffer.from(text).toString('base64') });
const files = (meta: string) => ({ files: [file('metadata.yaml', meta), file('config.yaml', 'options:\n  note: {type: string, default: ""}\n')] });

let server: TestServer;
let svc: Services;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const charm = s.charms.add('m', files('name: c\nsummary: s\ndescription: d\n'));
    s.applications.deploy({ model: 'm', app: 'a', charmUrl: charm.url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'b', charmUrl: charm.url, numUnits: 2, config: {}, constraints: '', to: [] });
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  svc = server.svc;
});
afterAll(() => server.close());

/** A machine agent's feed: every message it receives, from the moment it is open. */
async function watch(token: string) {
  const got: WatchMessage[] = [];
  const ws = new WebSocket(server.url.replace(/^http/, 'ws') + '/api/watch', { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as WatchMessage));
  await new Promise((r) => ws.once('open', r));
  await until(() => got.length > 0);
  return { got, keys: () => got.flatMap((m) => (m.changes ?? []).map((c) => `${c.kind}:${c.key}:${c.op}`)), close: () => ws.close() };
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}

const post = (token: string, path: string, body: unknown) =>
  fetch(server.url + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

describe('the change feed of a machine agent', () => {
  it('carries everything in its model until it is served a view, then only what concerns that view', async () => {
    const a = await watch(tokens['a/0']!);
    // No view served yet: b/1's status report reaches a/0's agent too.
    expect((await post(tokens['b/1']!, '/api/agent/status', { unit: 'b/1', agent: 'idle', message: '' })).status).toBe(200);
    await until(() => a.keys().includes('unit:b/1:status'));
    expect((await fetch(server.url + '/api/agent/view', { headers: { authorization: `Bearer ${tokens['a/0']}` } })).status).toBe(200);
    const seen = a.got.length;
    // Neither b's units' reports nor b's config concern a/0, nor its own application's
    // annotations (no agent's view holds them); its own application's config does.
    expect((await post(tokens['b/1']!, '/api/agent/status', { unit: 'b/1', agent: 'executing', message: 'x' })).status).toBe(200);
    svc.applications.setConfig('m', 'b', { note: 'x' });
    svc.applications.setAnnotations('m', 'b', { note: 'x' });
    svc.applications.setAnnotations('m', 'a', { note: 'y' });
    svc.applications.setConfig('m', 'a', { note: 'y' });
    await until(() => a.keys().includes('application:a:change'));
    expect(a.got.slice(seen).flatMap((m) => (m.changes ?? []).map((c) => `${c.kind}:${c.key}`))).toEqual(['application:a']);
    a.close();
  });

  it('keeps sending a watcher that is not a machine agent everything', async () => {
    const b0 = await watch(tokens['b/0']!);
    expect((await fetch(server.url + '/api/agent/view', { headers: { authorization: `Bearer ${tokens['b/0']}` } })).status).toBe(200);
    const admin = new WebSocket(server.url.replace(/^http/, 'ws') + '/api/watch?model=m', { headers: { authorization: 'Bearer admin' } });
    const got: WatchMessage[] = [];
    admin.on('message', (d) => got.push(JSON.parse(String(d)) as WatchMessage));
    await new Promise((r) => admin.once('open', r));
    await until(() => got.length > 0);
    expect((await post(tokens['a/0']!, '/api/agent/status', { unit: 'a/0', agent: 'idle', message: 'z' })).status).toBe(200);
    svc.applications.setAnnotations('m', 'b', { note: 'z' });
    svc.applications.setConfig('m', 'b', { note: 'z' });
    await until(() => got.some((m) => m.changes?.some((c) => c.key === 'b' && c.op === 'change')));
    expect(got.flatMap((m) => (m.changes ?? []).map((c) => `${c.kind}:${c.key}:${c.op}`))).toEqual(expect.arrayContaining(['unit:a/0:status', 'application:b:meta', 'application:b:change']));
    await until(() => b0.keys().includes('application:b:change'));
    // b/0's agent heard about its application's config, not about its annotations or a/0's report.
    expect(b0.keys()).not.toContain('unit:a/0:status');
    expect(b0.keys()).not.toContain('application:b:meta');
    admin.close();
    b0.close();
  });

  it("tells a person's watcher when a machine's agent connects or leaves, and never an agent's", async () => {
    const admin = new WebSocket(server.url.replace(/^http/, 'ws') + '/api/watch?model=m', { headers: { authorization: 'Bearer admin' } });
    const got: WatchMessage[] = [];
    admin.on('message', (d) => got.push(JSON.parse(String(d)) as WatchMessage));
    await new Promise((r) => admin.once('open', r));
    await until(() => got.length > 0);
    const a0 = await watch(tokens['a/0']!);
    const machineA = svc.reads.units('m').find((u) => u.name === 'a/0')!.machine!;
    expect(svc.presence.connected('m', machineA)).toBe(true);
    await until(() => got.some((m) => m.presence === true));
    const heard = got.filter((m) => m.presence === true).length;
    // The presence message resumes from the last revision the watcher was sent, never ahead.
    expect(got.find((m) => m.presence === true)!.rev).toBe(got[0]!.rev);
    const b1 = await watch(tokens['b/1']!);
    b1.close();
    a0.close();
    await until(() => !svc.presence.connected('m', machineA));
    await until(() => got.filter((m) => m.presence === true).length > heard);
    expect(a0.got.some((m) => m.presence === true)).toBe(false);
    admin.close();
  });

  it('tells machine agents, not people, when the controller replicas change, without moving the revision', async () => {
    const a0 = await watch(tokens['a/0']!);
    const people: WatchMessage[] = [];
    const admin = new WebSocket(server.url.replace(/^http/, 'ws') + '/api/watch?model=m', { headers: { authorization: 'Bearer admin' } });
    admin.on('message', (d) => people.push(JSON.parse(String(d)) as WatchMessage));
    await new Promise((r) => admin.once('open', r));
    await until(() => people.length > 0);
    svc.controllersChanged();
    await until(() => a0.got.some((m) => m.controllers === true));
    expect(a0.got.find((m) => m.controllers === true)!.rev).toBe(a0.got[0]!.rev);
    expect(people.some((m) => m.controllers === true)).toBe(false);
    // A closed feed stops listening.
    a0.close();
    admin.close();
    await until(() => !svc.presence.connected('m', svc.reads.units('m').find((u) => u.name === 'a/0')!.machine!));
    svc.controllersChanged();
  });
});

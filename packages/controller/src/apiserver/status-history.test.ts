// show-status-log and goal-state against a real server and store: the schema's triggers
// record every status change (and only changes), bounded per entity; goal-state is Juju's
// shape for the asking unit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GoalState, StatusHistoryEntry } from '@sigil/api';
import type { Services } from '../services.ts';
import { STATUS_HISTORY_KEEP } from '../store/schema.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const SRC = files('name: src\nsummary: s\ndescription: d\nprovides:\n  out: {interface: token}\npeers:\n  ring: {interface: ring}\n');
const SNK = files('name: snk\nsummary: s\ndescription: d\nrequires:\n  in: {interface: token}\n');

let server: TestServer;
let svc: Services;
let url: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const src = s.charms.add('m', SRC);
    const snk = s.charms.add('m', SNK);
    s.applications.deploy({ model: 'm', app: 'src', charmUrl: src.url, numUnits: 2, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'snk', charmUrl: snk.url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.relations.integrate('m', 'snk', 'src');
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  ({ svc, url } = server);
});

afterAll(() => server.close());

const call = async <T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as T };
};
const status = (unit: string, agent: 'idle' | 'executing' | 'error', message: string, workload?: { status: string; message: string }) =>
  call(tokens[unit]!, 'POST', '/api/agent/status', { unit, agent, message, ...(workload ? { workload } : {}) });
const history = (entity: string, type = 'unit', n = 20) => call<StatusHistoryEntry[]>('admin', 'GET', `/api/models/m/status-history?entity=${encodeURIComponent(entity)}&type=${type}&n=${n}`);

describe('status history', () => {
  it('records the first statuses and every change of workload and agent, oldest first', async () => {
    expect((await status('src/0', 'executing', 'running install hook', { status: 'maintenance', message: 'installing charm software' })).status).toBe(200);
    expect((await status('src/0', 'idle', '')).status).toBe(200);
    expect((await status('src/0', 'idle', '')).status).toBe(200); // no change: no entry
    const all = await history('src/0');
    expect(all.status).toBe(200);
    // The unit's first statuses (both set when it was added), then each change.
    expect(all.body.slice(0, 2).map((e) => e.type).sort()).toEqual(['juju-unit', 'workload']);
    expect(all.body.slice(2).map((e) => [e.type, e.status, e.message])).toEqual([
      ['juju-unit', 'executing', 'running install hook'],
      ['workload', 'maintenance', 'installing charm software'],
      ['juju-unit', 'idle', ''],
    ]);
    expect(all.body.slice(2).map((e) => e.status)).toEqual(['executing', 'maintenance', 'idle']);
    const workload = await history('src/0', 'workload');
    expect(workload.body.every((e) => e.type === 'workload')).toBe(true);
    expect((await history('src/0', 'juju-unit', 1)).body.map((e) => e.status)).toEqual(['idle']);
  });

  it('keeps a bounded number of entries per entity and kind', async () => {
    for (let i = 0; i < STATUS_HISTORY_KEEP + 20; i++) {
      svc.store.tx(() => svc.store.db.prepare('UPDATE units SET agent = ? WHERE model = ? AND name = ?').run(JSON.stringify({ current: 'executing', message: `hook ${i}`, since: Date.now() }), 'm', 'src/1'));
    }
    const count = svc.store.db.prepare("SELECT COUNT(*) AS n FROM status_history WHERE model = 'm' AND entity = 'src/1' AND kind = 'juju-unit'").get() as { n: number };
    expect(count.n).toBe(STATUS_HISTORY_KEEP);
    const last = await history('src/1', 'juju-unit', 2);
    expect(last.body.map((e) => e.message)).toEqual([`hook ${STATUS_HISTORY_KEEP + 18}`, `hook ${STATUS_HISTORY_KEEP + 19}`]);
  });

  it('machines have their own history; bad input is refused with a hint', async () => {
    const machine = svc.reads.unit('m', 'snk/0')!.machine!;
    svc.machines.setStatus('m', machine, 'running', 'started');
    expect((await history(machine, 'machine')).body.map((e) => e.status)).toContain('running');
    for (const [entity, type, message] of [
      ['src/0', 'bogus', 'unexpected status type "bogus"'],
      ['src', 'unit', '"src" is not a valid name for a unit'],
      ['nope/3', 'unit', 'unit nope/3 not found'],
      ['x', 'machine', '"x" is not a valid name for a machine'],
    ] as const) {
      const r = await call<{ error: { message: string; hint?: string } }>('admin', 'GET', `/api/models/m/status-history?entity=${encodeURIComponent(entity)}&type=${type}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.body.error.message).toBe(message);
      expect(r.body.error.hint).toBeTruthy();
    }
  });
});

describe('goal-state', () => {
  it("lists the application's units and, per endpoint, the related application and its units", async () => {
    const r = await call<GoalState>(tokens['snk/0']!, 'POST', '/api/agent/goal-state', { unit: 'snk/0' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.units)).toEqual(['snk/0']);
    expect(Object.keys(r.body.relations)).toEqual(['in']);
    expect(r.body.relations.in).toMatchObject({ src: { status: 'joining' }, 'src/0': { status: 'maintenance' }, 'src/1': { status: 'waiting' } });
    expect(typeof r.body.relations.in!.src!.since).toBe('number');
    // The peer relation is not listed; a dying unit shows as dying.
    svc.store.tx(() => svc.store.db.prepare("UPDATE units SET life = 'dying' WHERE model = 'm' AND name = 'src/1'").run());
    const src = await call<GoalState>(tokens['src/0']!, 'POST', '/api/agent/goal-state', { unit: 'src/0' });
    expect(src.body.units).toMatchObject({ 'src/0': { status: 'maintenance' }, 'src/1': { status: 'dying' } });
    expect(Object.keys(src.body.relations)).toEqual(['out']);
  });

  it("is refused for a unit on another machine", async () => {
    expect((await call(tokens['snk/0']!, 'POST', '/api/agent/goal-state', { unit: 'src/0' })).status).toBe(403);
  });
});

describe('machine agents in the machine history (status --timeline, issue 21)', () => {
  const connect = (token: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/watch`, { headers: { authorization: `Bearer ${token}` } });
      ws.once('message', () => resolve(ws));
      ws.once('error', reject);
    });

  it('records when a machine agent connects, once per connection (not per extra watch)', async () => {
    const machine = svc.reads.units('m').find((u) => u.name === 'snk/0')!.machine!;
    const connected = async () => (await history(machine, 'machine', 200)).body.filter((e) => e.status === 'started' && e.message === 'agent connected');
    const before = (await connected()).length;
    const t = Date.now();
    const a = await connect(tokens['snk/0']!);
    const b = await connect(tokens['snk/0']!);
    const after = await connected();
    expect(after.length).toBe(before + 1);
    expect(after[after.length - 1]!.since).toBeGreaterThanOrEqual(t);
    for (const ws of [a, b]) ws.close();
    while (svc.presence.connected('m', machine)) await new Promise((r) => setTimeout(r, 10));
    const again = await connect(tokens['snk/0']!);
    expect((await connected()).length).toBe(before + 2);
    again.close();
  });
});

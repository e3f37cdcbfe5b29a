// Agents are never trusted beyond their own machine: each machine's real credential, against
// a real server and store, tries other machines' units, relations it is not in, bags only a
// leader may write, other units' operations and charms. Every refusal is a 403, changes
// nothing, and is logged to the controller log without the credential.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../services.ts';
import type { Logger } from '../logger.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const SRC = files('name: src\nsummary: s\ndescription: d\nprovides:\n  out: {interface: token}\n');
const SNK = files('name: snk\nsummary: s\ndescription: d\nrequires:\n  in: {interface: token}\n');

let server: TestServer;
let svc: Services;
let url: string;
/** Each unit's machine credential. */
const tokens: Record<string, string> = {};
let inRel: number;
let otherRel: number;
const warned: { msg: string; fields: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const src = s.charms.add('m', SRC);
    const snk = s.charms.add('m', SNK);
    s.applications.deploy({ model: 'm', app: 'src', charmUrl: src.url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'snk', charmUrl: snk.url, numUnits: 2, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'lone', charmUrl: snk.url, numUnits: 1, config: {}, constraints: '', to: [] });
    inRel = s.relations.integrate('m', 'snk', 'src').id;
    otherRel = s.relations.integrate('m', 'lone', 'src').id;
    s.store.tx(() => {
      for (const app of ['src', 'snk', 'lone']) s.store.db.prepare('UPDATE applications SET leader = ? WHERE model = ? AND name = ?').run(`${app}/0`, 'm', app);
    });
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  ({ svc, url } = server);
  const capture: Logger = { debug() {}, info() {}, error() {}, warn: (msg, fields = {}) => warned.push({ msg, fields }) };
  (svc as { log: Logger }).log = capture;
});

afterAll(() => server.close());
beforeEach(() => {
  warned.length = 0;
});

const call = (token: string, method: string, path: string, body?: unknown) =>
  fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
const commit = (unit: string, over: Record<string, unknown>) => ({ unit, hook: 'update-status', relationUnit: {}, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [], ...over });
const bags = () => svc.store.db.prepare('SELECT relation_id, owner, is_app, data FROM relation_settings ORDER BY relation_id, owner, is_app').all();
const unitRows = () => svc.store.db.prepare('SELECT name, workload, agent, state, life, settled FROM units ORDER BY name').all();
const machineOf = (unit: string) => svc.reads.unit('m', unit)!.machine!;

/** The call is refused with 403, the store is unchanged, and the refusal is logged without the credential. */
async function refused(token: string, method: string, path: string, body: unknown, reason: RegExp): Promise<void> {
  const before = JSON.stringify([bags(), unitRows(), svc.store.revision()]);
  const res = await call(token, method, path, body);
  const text = await res.text();
  expect(res.status, text).toBe(403);
  expect((JSON.parse(text) as { error: { message: string } }).error.message).toMatch(reason);
  expect(JSON.stringify([bags(), unitRows(), svc.store.revision()])).toBe(before);
  expect(warned.map((w) => w.msg)).toEqual(['agent request refused']);
  expect(warned[0]!.fields).toMatchObject({ model: 'm', route: `${method} ${path.replace(/\/operations\/\d+\//, '/operations/:id/').replace(/\/charms\/\w+$/, '/charms/:hash')}`, reason: expect.stringMatching(reason) });
  expect(JSON.stringify(warned)).not.toContain(token);
  warned.length = 0;
}

describe("a machine's credential", () => {
  it("cannot act for another machine's unit on any agent route", async () => {
    expect(machineOf('snk/0')).not.toBe(machineOf('snk/1'));
    const t = tokens['snk/0']!;
    const other = /unit snk\/1 is not on machine/;
    await refused(t, 'POST', '/api/agent/status', { unit: 'snk/1', agent: 'idle', message: '' }, other);
    await refused(t, 'POST', '/api/agent/commit', commit('snk/1', { unitState: { k: 'v' } }), other);
    await refused(t, 'POST', '/api/agent/scope', { unit: 'snk/1', relation: inRel, enter: true }, other);
    await refused(t, 'POST', '/api/agent/settled', { unit: 'snk/1', revision: 1 }, other);
    await refused(t, 'POST', '/api/agent/dead', { unit: 'snk/1' }, other);
  });

  it("cannot start, finish or log another unit's operation", async () => {
    const { id } = svc.operations.enqueueExec('m', ['snk/1'], 'true', 60_000)[0]!;
    const other = new RegExp(`operation ${id} is for snk/1, which is not on machine`);
    await refused(tokens['snk/0']!, 'POST', `/api/agent/operations/${id}/start`, {}, other);
    await refused(tokens['snk/0']!, 'POST', `/api/agent/operations/${id}/finish`, { id, status: 'completed', message: '', results: {} }, other);
    await refused(tokens['snk/0']!, 'POST', `/api/agent/operations/${id}/log`, { message: 'forged' }, other);
    expect(svc.operations.get('m', id).status).toBe('pending');
    // Its own unit's operation works.
    const mine = svc.operations.enqueueExec('m', ['snk/1'], 'true', 60_000)[0]!.id;
    const res = await call(tokens['snk/1']!, 'POST', `/api/agent/operations/${mine}/start`, {});
    expect(await res.json()).toEqual({ ok: true, claimed: true });
  });

  it("cannot fetch the charm of an application it runs no unit of", async () => {
    const srcCharm = svc.reads.charms('m').find((c) => c.name === 'src')!;
    await refused(tokens['snk/0']!, 'GET', `/api/agent/charms/${srcCharm.hash}`, undefined, /is not used by any unit on machine/);
    expect((await call(tokens['src/0']!, 'GET', `/api/agent/charms/${srcCharm.hash}`)).status).toBe(200);
  });
});

describe('a unit', () => {
  it('cannot write or enter a relation its application is not in', async () => {
    const t = tokens['snk/0']!;
    const notIn = new RegExp(`snk/0 is not a member of relation ${otherRel}`);
    await refused(t, 'POST', '/api/agent/commit', commit('snk/0', { relationUnit: { [otherRel]: { forged: 'x' } } }), notIn);
    await refused(t, 'POST', '/api/agent/commit', commit('snk/0', { relationApp: { [otherRel]: { forged: 'x' } } }), notIn);
    await refused(t, 'POST', '/api/agent/scope', { unit: 'snk/0', relation: otherRel, enter: true }, notIn);
    await refused(t, 'POST', '/api/agent/scope', { unit: 'snk/0', relation: otherRel, enter: false }, notIn);
  });

  it('cannot write its application bag, the application status or leader settings unless it leads', async () => {
    const t = tokens['snk/1']!;
    const notLeader = /snk\/1 is not the leader of snk/;
    await refused(t, 'POST', '/api/agent/commit', commit('snk/1', { relationApp: { [inRel]: { forged: 'x' } } }), notLeader);
    await refused(t, 'POST', '/api/agent/commit', commit('snk/1', { appStatus: { status: 'blocked', message: 'forged' } }), notLeader);
    await refused(t, 'POST', '/api/agent/commit', commit('snk/1', { leaderSettings: { forged: 'x' } }), notLeader);
  });

  it('writes its own bag, and as leader its application bag, in its own relation', async () => {
    const res = await call(tokens['snk/0']!, 'POST', '/api/agent/commit', commit('snk/0', { relationUnit: { [inRel]: { mine: '1' } }, relationApp: { [inRel]: { app: '1' } } }));
    expect(res.status, await res.clone().text()).toBe(200);
    const rows = svc.store.db.prepare('SELECT owner, is_app, data FROM relation_settings WHERE relation_id = ? ORDER BY is_app, owner').all(inRel);
    expect(rows).toEqual([{ owner: 'snk/0', is_app: 0, data: '{"mine":"1"}' }, { owner: 'snk', is_app: 1, data: '{"app":"1"}' }]);
    expect(warned).toEqual([]);
  });

  it('writing to a relation that no longer exists stores nothing (a late relation-broken hook)', async () => {
    const res = await call(tokens['snk/0']!, 'POST', '/api/agent/commit', commit('snk/0', { relationUnit: { 999: { ahead: 'x' } } }));
    expect(res.status).toBe(200);
    expect(svc.store.db.prepare('SELECT COUNT(*) AS n FROM relation_settings WHERE relation_id = 999').get()).toEqual({ n: 0 });
  });

  it("reads only its own relations: the view of a machine carries no relation its units' applications are not in", async () => {
    const res = await call(tokens['snk/0']!, 'GET', '/api/agent/view');
    const view = (await res.json()) as { units: { name: string; relations: { id: number }[] }[] };
    expect(view.units.map((u) => u.name)).toEqual(['snk/0']);
    expect(view.units[0]!.relations.map((r) => r.id)).toEqual([inRel]);
  });
});

// What a machine agent may do with its credential, against a real server and store: its own
// units only, whatever it claims in a request body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const SINK = files('name: snk\nsummary: s\ndescription: d\nrequires:\n  in: {interface: token}\n');

let server: TestServer;
let svc: Services;
let url: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const charm = s.charms.add('m', SINK);
    s.applications.deploy({ model: 'm', app: 'snk', charmUrl: charm.url, numUnits: 2, config: {}, constraints: '', to: [] });
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  ({ svc, url } = server);
});

afterAll(() => server.close());

const post = (token: string, path: string, body: unknown) =>
  fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
const logs = (entity: string) => (svc.store.db.prepare('SELECT message FROM logs WHERE entity = ? ORDER BY id').all(entity) as { message: string }[]).map((r) => r.message);
const machineOf = (unit: string) => svc.reads.unit('m', unit)!.machine!;

describe('agent log lines', () => {
  it('are kept for the machine and its own units, and refused (and reported) for anyone else', async () => {
    const m0 = machineOf('snk/0');
    const line = (entity: string, message: string) => ({ entity, level: 'INFO', module: 'x', message, at: Date.now() });
    const res = await post(tokens['snk/0']!, '/api/agent/logs', {
      lines: [line('unit-snk-0', 'own unit'), line(`machine-${m0}`, 'own machine'), line('unit-snk-1', 'FORGED by machine 0'), line('machine-99', 'FORGED machine')],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, refused: 2 });
    expect(logs('unit-snk-0')).toEqual(['own unit']);
    expect(logs('unit-snk-1')).toEqual([]);
    expect(logs('machine-99')).toEqual([]);
    expect(logs(`machine-${m0}`)).toEqual(['own machine', expect.stringMatching(/^refused 2 log lines for entities not on machine \S+: "unit-snk-1", "machine-99"$/)]);
  });
});

describe('request limits', () => {
  it('refuse a 40 MB relation-set with 413, naming the limit, and keep the controller answering', async () => {
    const body = { unit: 'snk/0', hook: 'install', relationUnit: { '0': { k: 'x'.repeat(40 * 1024 ** 2) } }, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [] };
    const res = await post(tokens['snk/0']!, '/api/agent/commit', body);
    expect(res.status).toBe(413);
    const { error } = (await res.json()) as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('too-large');
    expect(error.message).toContain("over the controller's limit of 8M for POST /api/agent/commit");
    expect((await fetch(url + '/api/health')).status).toBe(200);
  });

  it('route a long application name (no 414), so anything accepted stays manageable', async () => {
    const res = await fetch(`${url}/api/models/m/applications/${'a'.repeat(101)}/config`, { headers: { authorization: 'Bearer admin' } });
    expect(res.status).toBe(404);
  });
});

describe('a hook commit', () => {
  const commit = (extra: Record<string, unknown>) => ({ unit: 'snk/1', hook: 'start', relationUnit: {}, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [], ...extra });

  it('returns the agent to idle with its changes when it says so, with the workload status Juju sets after the hook', async () => {
    expect((await post(tokens['snk/1']!, '/api/agent/status', { unit: 'snk/1', agent: 'executing', message: 'running start hook' })).status).toBe(200);
    const res = await post(tokens['snk/1']!, '/api/agent/commit', commit({ unitState: { k: 'v' }, idle: { workload: { status: 'unknown', message: '' } } }));
    expect(res.status).toBe(200);
    const u = svc.reads.unit('m', 'snk/1')!;
    expect(u.agent).toMatchObject({ current: 'idle', message: '' });
    expect(u.workload).toMatchObject({ current: 'unknown' });
  });

  it('leaves the agent status alone without it, and changes nothing when refused', async () => {
    expect((await post(tokens['snk/1']!, '/api/agent/status', { unit: 'snk/1', agent: 'executing', message: 'running config-changed hook' })).status).toBe(200);
    expect((await post(tokens['snk/1']!, '/api/agent/commit', commit({ unitState: { k: 'w' } }))).status).toBe(200);
    expect(svc.reads.unit('m', 'snk/1')!.agent).toMatchObject({ current: 'executing' });
    // Not the leader: the application bag is refused, and the agent does not go idle with it.
    const refused = await post(tokens['snk/1']!, '/api/agent/commit', commit({ appStatus: { status: 'blocked', message: 'x' }, idle: {} }));
    expect(refused.status).toBe(403);
    expect(svc.reads.unit('m', 'snk/1')!.agent).toMatchObject({ current: 'executing' });
  });
});

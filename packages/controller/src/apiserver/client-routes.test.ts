// The client routes against a real server and store, on a model with a bit of everything in
// it (a subordinate, a peer relation, a container, a unit in error, an offer, a roll-out):
// every call is built from the API contract, and the server checks every answer against the
// route's response schema (SIGIL_CHECK_RESPONSES), so a schema that says less or more than a
// handler answers fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOf, type ApiAnswer, type ApiArgs, type ApiRoute } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const charm = (meta: string, more: Record<string, string> = {}) => ({
  files: [{ path: 'metadata.yaml', mode: 0o644, data: b64(meta) }, ...Object.entries(more).map(([path, text]) => ({ path, mode: 0o644, data: b64(text) }))],
});
const WEB_META = 'name: web\nsummary: s\ndescription: d\nprovides:\n  http: {interface: http}\npeers:\n  ring: {interface: ring}\n';
const WEB = charm(WEB_META, {
  'config.yaml': 'options:\n  port: {type: int, default: 80, description: the port}\n  name: {type: string, description: a name}\n',
  'actions.yaml': 'backup:\n  description: b\n  params:\n    to: {type: string}\n',
});
const DB = charm('name: db\nsummary: s\ndescription: d\nprovides:\n  db: {interface: pg}\nrequires:\n  site: {interface: http}\n');
const SUB = charm('name: sub\nsummary: s\ndescription: d\nsubordinate: true\nrequires:\n  host: {interface: juju-info, scope: container}\n');

/** An enlisted host (`add-machine ssh:…`): the machines that hold containers. */
const HOST = { target: 'ubuntu@10.0.0.9:22', address: '10.0.0.9', hostname: 'h9', hardware: { arch: 'x86_64', cores: 2, mem: 2048, disk: 10240, base: { name: 'ubuntu', channel: '24.04' } }, init: 'systemd' as const };

let server: TestServer;
let svc: Services;
let host: string;

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const web = s.charms.add('m', WEB);
    s.applications.deploy({ model: 'm', app: 'web', charmUrl: web.url, numUnits: 2, config: { name: 'x' }, constraints: 'mem=1G', to: [] });
    s.applications.deploy({ model: 'm', app: 'db', charmUrl: s.charms.add('m', DB).url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'sub', charmUrl: s.charms.add('m', SUB).url, numUnits: 0, config: {}, constraints: '', to: [] });
    s.relations.integrate('m', 'db:site', 'web:http');
    s.relations.integrate('m', 'sub', 'web');
    s.units.addSubordinate('m', 'sub', s.reads.unit('m', 'web/0')!);
    s.applications.setExposed('m', 'web', true);
    for (const u of s.reads.units('m')) s.machines.provisioned('m', u.machine!, { instanceId: `i-${u.machine}`, address: `10.0.0.${u.machine}`, hostname: `h${u.machine}` });
    host = s.machines.enlist('m', { ...HOST, target: 'ubuntu@10.0.0.8:22', address: '10.0.0.8' }).machine.id;
    s.machines.addContainer('m', host, { constraints: '', autoRemove: false });
    s.offers.offer('m', 'db:db');
    const v2 = s.charms.add('m', charm(`${WEB_META}# v2\n`)).url;
    s.rollouts.start('m', 'web', { charmUrl: v2, batch: '1', gate: {}, pauseMs: 0, haltOnError: false, batchTimeoutMs: 60_000 }, 'admin');
    s.apiUrls = ['https://10.0.0.100:17070'];
  });
  ({ svc } = server);
});

afterAll(() => server.close());

/** One call of a contract route as the admin; a failure shows its status and error. */
async function call<K extends ApiRoute>(key: K, ...args: ApiArgs<K>): Promise<ApiAnswer<K>> {
  const r = requestOf(key, ...args);
  const res = await fetch(server.url + r.path, {
    method: r.method,
    headers: { authorization: 'Bearer admin', ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
  });
  const text = await res.text();
  expect(`${res.status} ${key}: ${res.status === 200 ? '' : text}`).toBe(`200 ${key}: `);
  return JSON.parse(text) as ApiAnswer<K>;
}
const m = { model: 'm' };

describe('the client routes answer what the contract says', () => {
  it('status, with subordinates, containers, a unit in error, an offer and a roll-out', async () => {
    const token = svc.machines.issueToken('m', svc.reads.unit('m', 'db/0')!.machine!);
    const res = await fetch(`${server.url}/api/agent/status`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ unit: 'db/0', agent: 'error', message: 'hook failed: "install"' }) });
    expect(res.status).toBe(200);
    const doc = await call('GET /api/models/:model/status', { params: m });
    expect(doc.applications['sub']?.['subordinate-to']).toEqual(['web']);
    expect(Object.keys(doc.applications['web']?.units?.['web/0']?.subordinates ?? {})).toEqual(['sub/0']);
    expect(doc.applications['db']?.units?.['db/0']?.['workload-status'].current).toBe('error');
    expect(doc.applications['web']?.rollout?.status).toBe('running');
    expect(Object.values(doc.machines).some((x) => Object.keys(x.containers ?? {}).length === 1)).toBe(true);
    expect(Object.keys(doc.offers)).toEqual(['db']);
    expect(doc.integrations?.map((r) => r.type).sort()).toEqual(['peer', 'regular', 'subordinate']);
    const waited = await call('GET /api/models/:model/wait', { params: m, query: { apps: 'db' } });
    expect(waited.errors.map((e) => e.unit)).toEqual(['db/0']);
  });

  it('the model, the controller and health', async () => {
    expect((await call('GET /api/health')).ok).toBe(true);
    expect((await call('GET /api/controller')).models).toEqual(['m']);
    expect((await call('GET /api/models')).map((x) => [x.name, x.access])).toEqual([['m', 'admin']]);
    expect((await call('POST /api/models/:model/config', { params: m, body: { 'logs-max-age': '24h' } }))['logs-max-age']).toBe('24h');
    expect((await call('GET /api/models/:model/config', { params: m }))['logs-max-age']).toBe('24h');
    expect((await call('POST /api/models', { body: { name: 'other' } })).name).toBe('other');
    expect((await call('DELETE /api/models/:model', { params: { model: 'other' } })).ok).toBe(true);
  });

  it('a unit, its history and the bundle state', async () => {
    const unit = await call('GET /api/models/:model/unit', { params: m, query: { name: 'web/0' } });
    expect(unit['web/0']?.['relation-info'].map((r) => r.endpoint).sort()).toEqual(['http', 'juju-info', 'ring']);
    expect((await call('GET /api/models/:model/status-history', { params: m, query: { entity: 'web/0' } })).length).toBeGreaterThan(0);
    const state = await call('GET /api/models/:model/bundle-state', { params: m });
    expect(Object.keys(state.charms).sort()).toEqual(['db', 'sub', 'web']);
  });

  it('applications: upload, deploy, configure, scale, relate, remove', async () => {
    const up = await call('POST /api/models/:model/charms', { params: m, body: { ...DB, source: '/srv/db' } });
    const app = { model: 'm', app: 'db2' };
    expect(await call('POST /api/models/:model/applications', { params: m, body: { app: 'db2', charmUrl: up.url, numUnits: 1, config: {}, constraints: '', to: [] } })).toEqual({ name: 'db2', units: ['db2/0'] });
    expect((await call('GET /api/models/:model/applications/:app/config', { params: { model: 'm', app: 'web' } })).settings['port']?.value).toBe(80);
    expect((await call('POST /api/models/:model/applications/:app/config', { params: { model: 'm', app: 'web' }, body: { set: { port: 8080 }, reset: ['name'] } })).settings['port']?.source).toBe('user');
    await call('POST /api/models/:model/applications/:app/annotations', { params: app, body: { note: 'x' } });
    await call('POST /api/models/:model/applications/:app/constraints', { params: app, body: { constraints: 'cores=2' } });
    await call('POST /api/models/:model/applications/:app/expose', { params: app, body: { exposed: true } });
    await call('POST /api/models/:model/applications/:app/refresh', { params: app, body: { charmUrl: up.url } });
    expect((await call('POST /api/models/:model/applications/:app/units', { params: app, body: { n: 1, to: [] } })).units).toEqual(['db2/1']);
    await call('POST /api/models/:model/units/remove', { params: m, body: { names: ['db2/1'] } });
    await call('POST /api/models/:model/resolve', { params: m, body: { unit: 'db/0', retry: false } });
    const rel = await call('POST /api/models/:model/relations', { params: m, body: { a: 'db2:site', b: 'web:http' } });
    expect(rel.endpoints.map((e) => e.app).sort()).toEqual(['db2', 'web']);
    await call('POST /api/models/:model/relations/remove', { params: m, body: { a: 'db2:site', b: 'web:http' } });
    await call('DELETE /api/models/:model/applications/:app', { params: app, query: { destroyStorage: true } });
  });

  it('actions, exec and operations', async () => {
    const op = await call('POST /api/models/:model/actions', { params: m, body: { unit: 'web/0', name: 'backup', params: { to: '/tmp' } } });
    expect((await call('GET /api/models/:model/operations/:id', { params: { model: 'm', id: String(op.id) } })).name).toBe('backup');
    const ops = await call('POST /api/models/:model/exec', { params: m, body: { units: ['web/0', 'db/0'], command: 'hostname', timeoutMs: 1000 } });
    expect(ops.map((o) => o.kind)).toEqual(['exec', 'exec']);
  });

  it('machines: add, a container, enlist and remove', async () => {
    const { machines } = await call('POST /api/models/:model/machines', { params: m, body: { n: 1, constraints: 'mem=2G', annotations: { rack: '1' } } });
    expect(machines).toHaveLength(1);
    expect((await call('POST /api/models/:model/machines', { params: m, body: { n: 1, constraints: '', container: { type: 'lxc', parent: host } } })).machines).toEqual([`${host}/lxc/1`]);
    const enlisted = await call('POST /api/models/:model/machines/enlist', { params: m, body: HOST });
    expect(enlisted.controllerUrl).toBe('https://10.0.0.100:17070');
    expect((await call('GET /api/models/:model/status', { params: m })).machines[enlisted.machine]?.base).toEqual(HOST.hardware.base);
    await call('POST /api/models/:model/machines/remove', { params: m, body: { names: [enlisted.machine, ...machines], force: true } });
  });

  it('destroying the controller marks every model dying', async () => {
    expect((await call('POST /api/controller/destroy')).ok).toBe(true);
    expect((await call('GET /api/models')).every((x) => x.life === 'dying')).toBe(true);
  });
});

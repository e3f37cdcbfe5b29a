// Containers on machines (issue 13) against a real server and store: lxc:N placement on an
// enlisted host, ids N/lxc/M, status nesting, the host's agent creating and destroying its
// containers, and the refusals (a provider machine as host, removal of a host with containers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineViewDelta, ModelStatusDoc } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const APP = files('name: app\nsummary: s\ndescription: d\n');

let server: TestServer;
let svc: Services;
let url: string;
let hostToken = '';
let otherToken = '';

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    s.charms.add('m', APP);
    // Machine 0: an enlisted host. Machine 1: a provider machine.
    const e = s.machines.enlist('m', { target: 'root@10.9.0.5', address: '10.9.0.5', hostname: 'h0', hardware: { arch: 'amd64', cores: 2, mem: 1024, disk: 10240 }, init: 'systemd' });
    hostToken = e.token;
    const other = s.machines.add('m', { constraints: '', autoRemove: false });
    otherToken = s.machines.issueToken('m', other.id);
    s.machines.provisioned('m', other.id, { instanceId: 'i-1', address: '10.9.0.6', hostname: 'h1' });
  });
  ({ svc, url } = server);
});
afterAll(() => server.close());

const call = async (token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; hint?: string } } };
};
const view = async (token: string) => (await call(token, 'GET', '/api/agent/view')).body as unknown as MachineViewDelta;
const status = async () => (await call('admin', 'GET', '/api/models/m/status')).body as unknown as ModelStatusDoc;

describe('containers on machines', () => {
  it('add-machine lxc:N makes N/lxc/M on an enlisted host, nested under it in status, and in its host\'s view', async () => {
    const r = await call('admin', 'POST', '/api/models/m/machines', { n: 2, constraints: '', container: { type: 'lxc', parent: '0' } });
    expect(r.body).toEqual({ machines: ['0/lxc/0', '0/lxc/1'] });
    const st = await status();
    expect(Object.keys(st.machines)).toEqual(['0', '1']);
    expect(Object.keys(st.machines['0']!.containers!)).toEqual(['0/lxc/0', '0/lxc/1']);
    expect(st.machines['0']!.containers!['0/lxc/0']!['instance-id']).toBe('pending');
    expect(st.machines['1']!.containers).toBeUndefined();
    expect((await view(hostToken)).machine.containers).toEqual([
      { id: '0/lxc/0', life: 'alive', provisioned: false, units: 0, constraints: '' },
      { id: '0/lxc/1', life: 'alive', provisioned: false, units: 0, constraints: '' },
    ]);
    expect((await view(otherToken)).machine.containers).toBeUndefined();
  });

  it('refuses a provider machine, a missing one, a container as host and kvm, with hints, changing nothing', async () => {
    const rev = svc.store.revision();
    const onProvider = await call('admin', 'POST', '/api/models/m/machines', { n: 1, constraints: '', container: { type: 'lxc', parent: '1' } });
    expect(onProvider.status).toBe(400);
    expect(onProvider.body.error!.message).toContain('machine 1 cannot hold containers');
    expect(onProvider.body.error!.hint).toContain('add-machine ssh:');
    const missing = await call('admin', 'POST', '/api/models/m/machines', { n: 1, constraints: '', container: { type: 'lxc', parent: '7' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error!.message).toContain('machine "7" not found for placement lxc:7');
    const charm = svc.reads.charms('m')[0]!;
    expect(() => svc.applications.deploy({ model: 'm', app: 'x', charmUrl: charm.url, numUnits: 1, config: {}, constraints: '', to: ['lxc:0/lxc/0'] })).toThrow(/containers inside containers/);
    expect(() => svc.applications.deploy({ model: 'm', app: 'x', charmUrl: charm.url, numUnits: 1, config: {}, constraints: '', to: ['kvm:0'] })).toThrow(/kvm containers are not supported/);
    expect(svc.store.revision()).toBe(rev);
  });

  it('deploy --to lxc:N places a unit in a new container of N', () => {
    const charm = svc.reads.charms('m')[0]!;
    svc.applications.deploy({ model: 'm', app: 'app', charmUrl: charm.url, numUnits: 1, config: {}, constraints: '', to: ['lxd:0'] });
    expect(svc.reads.unit('m', 'app/0')!.machine).toBe('0/lxc/2');
  });

  it('the host\'s agent alone takes a container\'s credential and reports it created', async () => {
    expect((await call(otherToken, 'POST', '/api/agent/containers/provision', { id: '0/lxc/0' })).status).toBe(403);
    const p = await call(hostToken, 'POST', '/api/agent/containers/provision', { id: '0/lxc/0' });
    expect(p.status).toBe(200);
    const token = p.body.token as string;
    expect(token.length).toBeGreaterThan(20);
    expect((await call(hostToken, 'POST', '/api/agent/containers/provisioned', { id: '0/lxc/0', instanceId: 'sigil-c0', address: '10.200.0.10', hostname: 'c0' })).status).toBe(200);
    // The container's own credential works for its own view.
    expect((await view(token)).machine).toMatchObject({ id: '0/lxc/0', address: '10.200.0.10' });
    expect((await call(hostToken, 'POST', '/api/agent/containers/provision', { id: '0/lxc/0' })).status).toBe(409);
    expect((await call(hostToken, 'POST', '/api/agent/containers/failed', { id: '0/lxc/1', message: 'no LXC on this host' })).status).toBe(200);
    const st = await status();
    expect(st.machines['0']!.containers!['0/lxc/0']!['dns-name']).toBe('10.200.0.10');
    expect(st.machines['0']!.containers!['0/lxc/1']!['machine-status']).toMatchObject({ current: 'provisioning error', message: 'no LXC on this host' });
  });

  it('a host with containers is removed only with --force; a container is removed and its host\'s agent destroys it', async () => {
    const refused = await call('admin', 'POST', '/api/models/m/machines/remove', { names: ['0'] });
    expect(refused.status).toBe(409);
    expect(refused.body.error!.message).toContain('machine 0 is hosting containers 0/lxc/0, 0/lxc/1, 0/lxc/2');
    expect(refused.body.error!.hint).toContain('--force');
    expect(svc.reads.machine('m', '0')!.life).toBe('alive');

    expect((await call('admin', 'POST', '/api/models/m/machines/remove', { names: ['0/lxc/0'] })).status).toBe(200);
    expect((await view(hostToken)).machine.containers![0]).toMatchObject({ id: '0/lxc/0', life: 'dying', provisioned: true });
    // Only a removed container may be reported destroyed, and only by its host.
    expect((await call(hostToken, 'POST', '/api/agent/containers/removed', { id: '0/lxc/1' })).status).toBe(409);
    expect((await call(otherToken, 'POST', '/api/agent/containers/removed', { id: '0/lxc/0' })).status).toBe(403);
    expect((await call(hostToken, 'POST', '/api/agent/containers/removed', { id: '0/lxc/0' })).status).toBe(200);
    expect(svc.reads.machine('m', '0/lxc/0')).toBeUndefined();

    expect((await call('admin', 'POST', '/api/models/m/machines/remove', { names: ['0'], force: true })).status).toBe(200);
    expect(svc.reads.machine('m', '0/lxc/1')!.life).toBe('dying');
    expect(svc.reads.machine('m', '0/lxc/2')!.life).toBe('dying');
    expect(svc.reads.unit('m', 'app/0')!.life).toBe('dead');
    // The host's agent uninstalls itself only once its containers are gone.
    const early = await call(hostToken, 'POST', '/api/agent/uninstalled', {});
    expect(early.status).toBe(409);
    expect(early.body.error!.message).toContain('still hosts containers');
  });
});

// SSH keys through the API and into every machine's view, and a machine credential's
// rotation as the operator and the agent drive it, against a real server and store.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineViewDelta } from '@sigil/api';
import type { Services } from '../services.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const APP = files('name: app\nsummary: s\ndescription: d\n');

let server: TestServer;
let svc: Services;
let url: string;
const tokens: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'sigil-ssh-routes-'));
let key = '';

beforeAll(async () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'joe@laptop', '-f', join(dir, 'id')]);
  key = readFileSync(join(dir, 'id.pub'), 'utf8').trim();
  server = await startTestServer('admin', (s) => {
    const charm = s.charms.add('m', APP);
    s.applications.deploy({ model: 'm', app: 'app', charmUrl: charm.url, numUnits: 2, config: {}, constraints: '', to: [] });
    for (const u of s.reads.units('m')) {
      tokens[u.machine!] = s.machines.issueToken('m', u.machine!);
      s.machines.provisioned('m', u.machine!, { instanceId: `i-${u.machine}`, address: `10.0.0.${Number(u.machine) + 10}`, hostname: `h${u.machine}` });
    }
  });
  ({ svc, url } = server);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = async (token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; hint?: string } } };
};
const view = async (machine: string) => (await call(tokens[machine]!, 'GET', '/api/agent/view')).body as unknown as MachineViewDelta;

describe('ssh keys', () => {
  it('added by an admin reach every machine\'s view, and go when removed', async () => {
    expect((await view('0')).machine.sshKeys).toEqual([]);
    const added = await call('admin', 'POST', '/api/models/m/ssh-keys', { keys: [key] });
    expect(added.status).toBe(200);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'id.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(added.body).toEqual([{ fingerprint, comment: 'joe@laptop', key, text: `${fingerprint} (joe@laptop)`, addedBy: 'admin' }]);
    expect((await call('admin', 'GET', '/api/models/m/ssh-keys')).body).toEqual(added.body);
    for (const m of ['0', '1']) expect((await view(m)).machine.sshKeys).toEqual([key]);
    // A machine added later gets them in its first view.
    const later = svc.machines.add('m', { constraints: '', autoRemove: false });
    tokens[later.id] = svc.machines.issueToken('m', later.id);
    expect((await view(later.id)).machine.sshKeys).toEqual([key]);
    expect((await call('admin', 'POST', '/api/models/m/ssh-keys/remove', { names: ['joe@laptop'] })).status).toBe(200);
    expect((await view('0')).machine.sshKeys).toEqual([]);
  });

  it('refuse garbage with a hint and change nothing; a machine credential cannot touch them', async () => {
    const rev = svc.store.revision();
    const bad = await call('admin', 'POST', '/api/models/m/ssh-keys', { keys: ['not a key'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'bad-request', message: expect.stringContaining('invalid ssh key "not a key"'), hint: expect.stringContaining('~/.ssh/id_ed25519.pub') });
    expect((await call('admin', 'POST', '/api/models/m/ssh-keys/remove', { names: ['nobody'] })).status).toBe(404);
    expect((await call(tokens['0']!, 'POST', '/api/models/m/ssh-keys', { keys: [key] })).status).toBe(403);
    expect((await call(tokens['0']!, 'GET', '/api/models/m/ssh-keys')).status).toBe(403);
    expect(svc.store.revision()).toBe(rev);
  });

  it('ssh-address names the machine of a unit or machine, and refuses what has no address', async () => {
    expect((await call('admin', 'GET', '/api/models/m/ssh-address?target=app/1')).body).toEqual({ address: `10.0.0.${Number(svc.reads.unit('m', 'app/1')!.machine) + 10}`, machine: svc.reads.unit('m', 'app/1')!.machine });
    expect((await call('admin', 'GET', '/api/models/m/ssh-address?target=0')).body).toEqual({ address: '10.0.0.10', machine: '0' });
    expect((await call('admin', 'GET', '/api/models/m/ssh-address?target=app/7')).body.error).toMatchObject({ code: 'not-found', message: 'unit "app/7" not found or has no address yet' });
    expect((await call(tokens['0']!, 'GET', '/api/models/m/ssh-address?target=0')).status).toBe(403);
  });
});

describe('rotate-agent-credential', () => {
  it('hands the running agent a new credential over its own connection; the old one stops working once the new one is used', async () => {
    const old = tokens['1']!;
    // The agent may not help itself to a new credential nobody asked for.
    const unasked = await call(old, 'POST', '/api/agent/credential', {});
    expect(unasked.status).toBe(409);
    expect(unasked.body.error!.hint).toContain('sigil rotate-agent-credential');
    // Only an admin asks; the machine's own credential cannot.
    expect((await call(old, 'POST', '/api/models/m/machines/1/rotate-credential', {})).status).toBe(403);
    expect((await call('admin', 'POST', '/api/models/m/machines/9/rotate-credential', {})).body.error).toMatchObject({ code: 'not-found' });
    expect((await call('admin', 'POST', '/api/models/m/machines/1/rotate-credential', {})).status).toBe(200);
    expect((await view('1')).machine.rotateCredential).toBe(true);
    expect((await view('0')).machine.rotateCredential).toBe(false);
    // Another machine cannot take machine 1's new credential.
    expect((await call(tokens['0']!, 'POST', '/api/agent/credential', {})).status).toBe(409);
    const issued = await call(old, 'POST', '/api/agent/credential', {});
    const fresh = issued.body.token as string;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(fresh).not.toBe(old);
    // Until the agent uses it, the old credential still works (the answer may have been lost).
    expect((await call(old, 'GET', '/api/agent/view')).status).toBe(200);
    const first = await call(fresh, 'GET', '/api/agent/view');
    expect(first.status).toBe(200);
    expect((first.body as unknown as MachineViewDelta).machine).toMatchObject({ id: '1', rotateCredential: false });
    const stale = await call(old, 'GET', '/api/agent/view');
    expect(stale.status).toBe(401);
    expect(JSON.stringify(stale.body)).not.toContain(old);
    expect((await call(fresh, 'GET', '/api/agent/view')).status).toBe(200);
    // Nothing but a hash is stored.
    const rows = JSON.stringify(svc.store.db.prepare('SELECT * FROM machines').all()) + JSON.stringify(svc.store.db.prepare('SELECT * FROM credential_rotations').all());
    expect(rows).not.toContain(fresh);
    expect(rows).not.toContain(old);
  });
});

describe('debug-hooks target', () => {
  it('names the unit\'s machine, its address, and the hooks and actions of its charm', async () => {
    const r = await call('admin', 'GET', '/api/models/m/debug-hooks?unit=app/1');
    expect(r.status).toBe(200);
    const unitMachine = svc.reads.unit('m', 'app/1')!.machine!;
    expect(r.body).toMatchObject({ unit: 'app/1', model: 'm', machine: unitMachine, address: `10.0.0.${Number(unitMachine) + 10}`, actions: [] });
    expect(r.body.hooks).toEqual(expect.arrayContaining(['install', 'config-changed', 'juju-info-relation-joined']));
  });

  it('refuses an unknown unit with a hint', async () => {
    const r = await call('admin', 'GET', '/api/models/m/debug-hooks?unit=nope/0');
    expect(r.status).toBe(404);
    expect(r.body.error?.message).toBe('unit "nope/0" not found in model "m"');
    expect(r.body.error?.hint).toContain('sigil status');
  });
});

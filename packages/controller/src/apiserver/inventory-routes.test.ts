// The inventory routes against a real server and store: an agent reports its own units
// only; reports are matched against the index, again when the index grows; the view asks
// for collections; status shows the counts.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport, AuditReportAnswer, AuditUnitSummary, IndexedRelease, MachineViewDelta, ModelStatusDoc, UnitInventory } from '@sigil/api';
import type { Services } from '../services.ts';
import { AgentRepository } from '../state/agents.ts';
import { startTestServer, type TestServer } from './test-server.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const META = { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from('name: web\nsummary: s\ndescription: d\n').toString('base64') }] };

let server: TestServer;
let svc: Services;
let url: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer('admin', (s) => {
    const charm = s.charms.add('m', META);
    s.applications.deploy({ model: 'm', app: 'web', charmUrl: charm.url, numUnits: 2, config: {}, constraints: '', to: [] });
    for (const u of s.reads.units('m')) tokens[u.name] = s.machines.issueToken('m', u.machine!);
  });
  ({ svc, url } = server);
});
afterAll(() => server.close());

const call = async <T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(url + path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
  return { status: res.status, body: (await res.json()) as T };
};

const libFiles = Array.from({ length: 10 }, (_, i): [string, string] => [`src/f${i}.c`, md5(`libfoo 0.31 file ${i}`)]);

function report(unit: string, request: number, files: [string, string][]): AuditReport {
  return {
    unit, request, collectedAt: Date.now(), ms: 5,
    packages: [{ name: 'wordpress', version: '6.1.1+dfsg1-1', arch: 'all' }],
    changed: [{ package: 'wordpress', path: '/usr/share/wordpress/index.php', state: 'modified' }],
    charm: { files: 3, collected: false, modified: [], missing: [] },
    language: [], roots: ['/opt'], files, skipped: { count: 0, byReason: {}, samples: [] },
  };
}

describe('inventory routes', () => {
  it('asks the machine for a collection through its view, and takes the report only from that machine', async () => {
    const c = await call<{ units: { unit: string; request: number }[] }>('admin', 'POST', '/api/models/m/inventory/collect', { targets: ['web/0'] });
    expect(c.status).toBe(200);
    expect(c.body.units).toEqual([{ unit: 'web/0', request: 1 }]);
    const view = await call<MachineViewDelta>(tokens['web/0']!, 'GET', '/api/agent/view');
    expect(view.body.machine.auditRequests).toEqual({ 'web/0': 1 });
    // web/1 is on another machine: its credential cannot report for web/0.
    expect(svc.reads.unit('m', 'web/0')!.machine).not.toBe(svc.reads.unit('m', 'web/1')!.machine);
    expect((await call(tokens['web/1']!, 'POST', '/api/agent/audit', report('web/0', 1, []))).status).toBe(403);
    const copy = libFiles.map(([p, h]): [string, string] => [`/opt/app/vendor/renamed/${p}`, h]);
    copy[3] = ['/opt/app/vendor/renamed/src/f3.c', md5('changed')];
    expect((await call(tokens['web/0']!, 'POST', '/api/agent/audit', report('web/0', 1, copy))).status).toBe(200);
    const after = await call<MachineViewDelta>(tokens['web/0']!, 'GET', '/api/agent/view');
    expect(after.body.machine.auditRequests).toBeUndefined();
  });

  it('refuses a report with a relative or climbing path, or a bad digest, and stores nothing', async () => {
    const bad = await call<{ error: { message: string } }>(tokens['web/1']!, 'POST', '/api/agent/audit', report('web/1', 0, [['/opt/../etc/x', md5('x')]]));
    expect(bad.status).toBe(400);
    expect((await call(tokens['web/1']!, 'POST', '/api/agent/audit', report('web/1', 0, [['/opt/x', 'nothex']]))).status).toBe(400);
    expect(svc.inventory.repo.report('m', 'web/1')).toBeUndefined();
  });

  it('finds the copy once the release is indexed, and status counts it', async () => {
    const before = await call<UnitInventory[]>('admin', 'GET', '/api/models/m/inventory/units?units=web/0');
    expect(before.body[0]!.embedded).toEqual([]);
    expect(before.body[0]!.changed).toHaveLength(1);
    const add = await call('admin', 'POST', '/api/inventory/index', { name: 'libfoo', version: '0.31', source: 'upstream', files: libFiles });
    expect(add.status).toBe(200);
    const inv = await call<UnitInventory[]>('admin', 'GET', '/api/models/m/inventory/units?units=web/0');
    expect(inv.body[0]!.embedded).toMatchObject([{ name: 'libfoo', version: '0.31', dir: '/opt/app/vendor/renamed', matched: 9, total: 10, share: 90, kind: 'modified', differing: ['src/f3.c'] }]);
    const status = await call<ModelStatusDoc>('admin', 'GET', '/api/models/m/status');
    expect(status.body.applications.web!.units!['web/0']!.audit).toMatchObject({ 'modified-files': 1, 'embedded-copies': 1, packages: 1 });
    expect(status.body.applications.web!.units!['web/1']!.audit).toBeUndefined();
    const summary = await call<AuditUnitSummary[]>('admin', 'GET', '/api/models/m/inventory');
    expect(summary.body.map((s) => [s.unit, s.counts?.embedded ?? null, s.pending])).toEqual([['web/0', 1, false], ['web/1', null, false]]);
  });

  it('refuses index entries with climbing paths, and a release that is not there', async () => {
    expect((await call('admin', 'POST', '/api/inventory/index', { name: 'x', version: '1', source: 'upstream', files: [['../x', md5('x')]] })).status).toBe(400);
    expect((await call('admin', 'POST', '/api/inventory/index/remove', { name: 'nope', version: '1' })).status).toBe(404);
  });

  it('asks for the files of installed packages the index lacks, indexes them once, and finds a copy of them', async () => {
    const wpFiles = Array.from({ length: 6 }, (_, i): [string, string] => [`usr/share/wordpress/wp-includes/f${i}.php`, md5(`wordpress 6.1.1 file ${i}`)]);
    const first = await call<AuditReportAnswer>(tokens['web/1']!, 'POST', '/api/agent/audit', report('web/1', 0, []));
    expect(first.body.indexWanted).toEqual([{ name: 'wordpress', version: '6.1.1+dfsg1-1', arch: 'all' }]);
    // Only what the unit's last collection listed as installed, at that version.
    const other = await call<{ error: { message: string } }>(tokens['web/1']!, 'POST', '/api/agent/audit/packages', { unit: 'web/1', packages: [{ name: 'openssl', version: '3.0.0', files: wpFiles }] });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/openssl=3.0.0 is not installed on web\/1/);
    const climbing = await call(tokens['web/1']!, 'POST', '/api/agent/audit/packages', { unit: 'web/1', packages: [{ name: 'wordpress', version: '6.1.1+dfsg1-1', files: [['../etc/passwd', md5('x')]] }] });
    expect(climbing.status).toBe(400);
    expect((await call(tokens['web/0']!, 'POST', '/api/agent/audit/packages', { unit: 'web/1', packages: [{ name: 'wordpress', version: '6.1.1+dfsg1-1', files: wpFiles }] })).status).toBe(403);
    expect((await call<IndexedRelease[]>('admin', 'GET', '/api/inventory/index')).body.map((r) => r.name)).not.toContain('wordpress');
    const added = await call<{ added: number }>(tokens['web/1']!, 'POST', '/api/agent/audit/packages', { unit: 'web/1', packages: [{ name: 'wordpress', version: '6.1.1+dfsg1-1', files: wpFiles }] });
    expect(added.body).toEqual({ added: 1 });
    expect((await call<IndexedRelease[]>('admin', 'GET', '/api/inventory/index')).body).toContainEqual(expect.objectContaining({ name: 'wordpress', version: '6.1.1+dfsg1-1', source: 'dpkg', files: 6 }));
    // Indexed: not asked for again, and sent again it is not added twice.
    const again = await call<AuditReportAnswer>(tokens['web/1']!, 'POST', '/api/agent/audit', report('web/1', 0, wpFiles.map(([p, h]): [string, string] => [`/srv/site/${p.split('/').pop()}`, h])));
    expect(again.body.indexWanted).toEqual([]);
    expect((await call<{ added: number }>(tokens['web/1']!, 'POST', '/api/agent/audit/packages', { unit: 'web/1', packages: [{ name: 'wordpress', version: '6.1.1+dfsg1-1', files: wpFiles }] })).body).toEqual({ added: 0 });
    // A copy of the package's files outside dpkg's ownership is found as an embedded copy.
    expect(again.body.embedded).toBe(1);
    const inv = await call<UnitInventory[]>('admin', 'GET', '/api/models/m/inventory/units?units=web/1');
    expect(inv.body[0]!.embedded).toMatchObject([{ name: 'wordpress', version: '6.1.1+dfsg1-1', source: 'dpkg', dir: '/srv/site', kind: 'exact', matched: 6, total: 6 }]);
  });

  it('asks again after install and upgrade-charm commits, and on the model\'s audit-interval', () => {
    const before = svc.inventory.repo.requests('m').get('web/1')?.requested ?? 0;
    svc.store.tx(() => svc.inventory.afterHook('m', 'web/1', 'install'));
    expect(svc.inventory.repo.requests('m').get('web/1')!.requested).toBe(before + 1);
    svc.store.tx(() => svc.inventory.afterHook('m', 'web/1', 'config-changed'));
    expect(svc.inventory.repo.requests('m').get('web/1')!.requested).toBe(before + 1);
    // web/0 reported just now: not due within 24h, due after it.
    expect(svc.inventory.scheduleDue('m', '24h', Date.now())).toEqual([]);
    expect(svc.inventory.scheduleDue('m', '24h', Date.now() + 25 * 3_600_000)).toEqual(['web/0']);
    expect(svc.inventory.scheduleDue('m', '0', Date.now() + 99 * 3_600_000)).toEqual([]);
    // A unit never collected is not asked while it has not yet settled (it is installing):
    // its install hook's commit asks for it.
    const [fresh] = svc.units.add('m', 'web', 1);
    expect(svc.inventory.scheduleDue('m', '24h', Date.now() + 50 * 3_600_000)).not.toContain(fresh);
    svc.store.tx(() => new AgentRepository(svc.store).setSettled('m', fresh!, svc.store.revision()));
    expect(svc.inventory.scheduleDue('m', '24h', Date.now() + 75 * 3_600_000)).toContain(fresh);
    expect(() => svc.models.setConfig('m', { 'audit-interval': '10s' })).toThrow(/at least 1m/);
    expect(svc.models.setConfig('m', { 'audit-interval': '12h' })['audit-interval']).toBe('12h');
  });
});

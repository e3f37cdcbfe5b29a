import { expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import { InvalidConfigError, type Applied, type ServerState, type Workload } from './workload.ts';

/** Records what the charm asked of the machine; `reject` makes haproxy -c refuse the next file. */
function fake(opts: { reject?: string } = {}) {
  const applied: { config: string; states: readonly ServerState[] }[] = [];
  const calls: string[] = [];
  const w: Workload = {
    install: async () => void calls.push('install'),
    version: async () => '2.6.12',
    apply: async (config, states): Promise<Applied> => {
      if (opts.reject) throw new InvalidConfigError(`[ALERT] ${opts.reject}`);
      const changed = applied.at(-1)?.config !== config;
      applied.push({ config, states });
      return changed ? 'reloaded' : 'unchanged';
    },
    stop: async () => void calls.push('stop'),
  };
  return { w, applied, calls };
}

const backend = (units: Record<string, Record<string, string>>) => ({ endpoint: 'reverseproxy', id: 7, remoteApp: 'web', remoteUnits: units });
const unitData = (n: number, extra: Record<string, string> = {}) => ({ hostname: `10.0.0.${n + 20}`, port: '8080', 'private-address': `10.0.0.${n + 20}`, ...extra });

test('install installs haproxy, records its version, and the reconcile after it configures it', async () => {
  const { w, applied, calls } = fake();
  const out = await run(build(w), event.install(), state(spec, { leader: true }));
  expect(calls).toEqual(['install']);
  expect(out.workloadVersion).toBe('2.6.12');
  expect(applied).toHaveLength(1);
  expect(out.ports).toEqual([80, 8404].map((port) => ({ port, protocol: 'tcp' })));
  expect(out.unitStatus).toEqual({ name: 'active', message: '0 servers behind :80' });
});

test('reconcile: every related unit becomes a server; website and reverseproxy get our address', async () => {
  const { w, applied } = fake();
  const s = state(spec, {
    relations: [backend({ 'web/0': unitData(0, { 'check-port': '8081' }), 'web/1': unitData(1, { busy: 'true' }) }), { endpoint: 'website', id: 9, remoteApp: 'front', remoteUnits: { 'front/0': {} } }],
  });
  const out = await run(build(w), event.reconcile(), s);
  const cfg = applied[0]!.config;
  expect(cfg).toContain('    server web-0-8080 10.0.0.20:8080 check port 8081\n    server web-1-8080 10.0.0.21:8080 check\n');
  expect(applied[0]!.states).toEqual([
    { backend: 'haproxy_service', server: 'web-0-8080', state: 'ready' },
    { backend: 'haproxy_service', server: 'web-1-8080', state: 'drain' },
  ]);
  expect(out.unitStatus).toEqual({ name: 'active', message: '2 servers behind :80, 1 busy' });
  expect(out.relations[0]!.localUnitData).toEqual({ 'public-address': '10.0.0.10' });
  expect(out.relations[1]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '80', all_services: '- service_name: haproxy_service\n  service_host: 0.0.0.0\n  service_port: 80\n' });
});

test('a departed unit is no longer a server', async () => {
  const { w, applied } = fake();
  const s = state(spec, { relations: [backend({ 'web/0': unitData(0) })] });
  await run(build(w), event.relationDeparted(s.relations[0]!, 'web/1'), s);
  expect(applied[0]!.config).toContain('server web-0-8080');
  expect(applied[0]!.config).not.toContain('web-1');
});

test('ignored relation data is logged and counted in the status', async () => {
  const { w } = fake();
  const out = await run(build(w), event.reconcile(), state(spec, { relations: [backend({ 'web/0': unitData(0, { port: 'eighty' }) })] }));
  expect(out.unitStatus?.message).toBe('0 servers behind :80, 1 relation setting ignored (see debug-log)');
  expect(out.logs).toContainEqual({ level: 'WARNING', message: 'web/0: ignored: port "eighty" is not a TCP port' });
});

test('a bad option blocks the unit and leaves HAProxy alone', async () => {
  const { w, applied } = fake();
  const out = await run(build(w), event.configChanged(), state(spec, { config: { 'check-inter': 'often' }, ports: [{ port: 80, protocol: 'tcp' }] }));
  expect(out.unitStatus).toEqual({ name: 'blocked', message: 'check-inter=often is not a positive HAProxy time: e.g. 500ms, 2s, 1m' });
  expect(applied).toEqual([]);
  expect(out.ports).toEqual([{ port: 80, protocol: 'tcp' }]);
});

test('a configuration haproxy -c refuses blocks the unit with its message', async () => {
  const { w } = fake({ reject: "parsing [/etc/haproxy/haproxy.cfg:40] : unknown keyword 'frobnicate'" });
  const out = await run(build(w), event.reconcile(), state(spec));
  expect(out.unitStatus?.name).toBe('blocked');
  expect(out.unitStatus?.message).toMatch(/^haproxy -c rejected the configuration: \[ALERT\] parsing .*'frobnicate' \(still serving the last good configuration; see debug-log\)$/);
});

test('the leader generates the stats password once into an application secret, shown by stats-credentials', async () => {
  const { w, applied } = fake();
  const first = await run(build(w), event.reconcile(), state(spec, { leader: true }));
  const pw = first.appSecrets['haproxy-stats']!.password!;
  expect(pw).toMatch(/^[A-Za-z0-9_-]{20}$/);
  expect(first.stored['stats-password']).toBeUndefined();
  expect(first.leaderData).toEqual({ 'stats-secret-version': '1' });
  await run(build(w), event.reconcile(), first);
  expect(applied[1]!.config).toBe(applied[0]!.config);
  expect(applied[0]!.config).toContain(`    stats auth admin:${pw}\n`);
  const creds = await run(build(w), event.action('stats-credentials'), first);
  expect(creds.action?.results).toEqual({ url: 'http://10.0.0.10:8404/', user: 'admin', password: pw });
  const off = await run(build(w), event.action('stats-credentials'), state(spec, { config: { 'stats-port': 0 } }));
  expect(off.action?.failed).toBe('the statistics page is off (stats-port=0)');
});

test('another unit keeps the statistics page off until the secret is there, then serves it with the same password', async () => {
  const { w, applied } = fake();
  const early = await run(build(w), event.reconcile(), state(spec, { unit: 'haproxy/1' }));
  expect(applied[0]!.config).not.toContain('stats auth');
  expect(early.ports).toEqual([{ port: 80, protocol: 'tcp' }]);
  expect((await run(build(w), event.action('stats-credentials'), early)).action?.failed).toMatch(/no statistics password yet/);
  await run(build(w), event.leaderSettingsChanged(), state(spec, { unit: 'haproxy/1', appSecrets: { 'haproxy-stats': { password: 'shared-pw' } } }));
  expect(applied[1]!.config).toContain('    stats auth admin:shared-pw\n');
});

test('a unit deployed before secrets gives its generated password to the secret and forgets it', async () => {
  const { w } = fake();
  const out = await run(build(w), event.upgradeCharm(), state(spec, { leader: true, stored: { 'stats-password': 'old-unit-pw' } }));
  expect(out.appSecrets['haproxy-stats']).toEqual({ password: 'old-unit-pw' });
  expect(out.stored['stats-password'] ?? '').toBe('');
});

test('stop stops HAProxy and does not start it again', async () => {
  const { w, applied, calls } = fake();
  await run(build(w), event.stop(), state(spec));
  expect(calls).toEqual(['stop']);
  expect(applied).toEqual([]);
});

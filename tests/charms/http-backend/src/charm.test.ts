import { expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { build } from './charm.ts';
import { unitFile, type AppOptions, type Workload } from './workload.ts';

function fake() {
  const calls: AppOptions[] = [];
  const w: Workload = {
    configure: async (o) => {
      calls.push(o);
      return 'started';
    },
    stop: async () => {},
    remove: async () => {},
  };
  return { w, calls };
}

const website = { endpoint: 'website', id: 4, remoteApp: 'haproxy', remoteUnits: { 'haproxy/0': {} } };

test('config-changed runs the app and publishes hostname, port and check-port', async () => {
  const { w, calls } = fake();
  const out = await run(build(w), event.configChanged(), state(spec, { unit: 'http-backend/1', relations: [website] }));
  expect(calls).toEqual([{ unit: 'http-backend/1', port: 8080, checkPort: 8081, workers: 4 }]);
  expect(out.ports).toEqual([{ port: 8080, protocol: 'tcp' }]);
  expect(out.relations[0]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '8080', 'check-port': '8081' });
  expect(out.unitStatus).toEqual({ name: 'active', message: 'http-backend/1 on :8080' });
});

test('the busy action sets and clears busy in the relation data, and new relations see it', async () => {
  const { w } = fake();
  const busy = await run(build(w), event.action('busy', { state: true }), state(spec, { relations: [website] }));
  expect(busy.action).toMatchObject({ results: { busy: 'true', relations: '1' }, failed: undefined });
  expect(busy.relations[0]!.localUnitData.busy).toBe('true');
  expect(busy.unitStatus?.message).toBe('http-backend/0 on :8080, busy');
  const joined = await run(build(w), event.relationJoined(busy.relations[0]!, 'haproxy/0'), busy);
  expect(joined.relations[0]!.localUnitData.busy).toBe('true');
  const free = await run(build(w), event.action('busy', { state: false }), busy);
  expect(free.relations[0]!.localUnitData).toEqual({ hostname: '10.0.0.10', port: '8080', 'check-port': '8081' });
});

test('the ports must differ and be unprivileged; a bad value blocks without touching the app', async () => {
  const { w, calls } = fake();
  const same = await run(build(w), event.configChanged(), state(spec, { config: { 'check-port': 8080 } }));
  expect(same.unitStatus).toEqual({ name: 'blocked', message: 'check-port=8080 is also port: health checks need their own port' });
  const low = await run(build(w), event.configChanged(), state(spec, { config: { port: 80 } }));
  expect(low.unitStatus?.message).toBe('port=80 is out of range: use 1024-65535');
  expect(calls).toEqual([]);
});

test('the unit file runs the server with its unit name and ports', () => {
  expect(unitFile({ unit: 'http-backend/2', port: 8080, checkPort: 8081, workers: 3 })).toContain('ExecStart=/usr/bin/python3 /usr/local/lib/http-backend/server.py http-backend/2 8080 8081 3\n');
});

// Relation chaos against a real store and server: the consumer's view of the provider's bag
// points at a real chaos proxy that adds latency on loopback; removing it restores the
// stored bag exactly, and every change moves the consumer's bag versions forward.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { dropTable } from '@sigil/chaos';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Services } from '../services.ts';
import { AgentViews } from '../domain/agent-view.ts';
import { GuiView } from '../domain/gui-view.ts';
import { AgentRepository } from '../state/agents.ts';
import { ChaosProxies } from '../workers/chaos.ts';
import type { WorkerContext } from '../workers/context.ts';
import { silentLogger } from '../logger.ts';
import { startTestServer, type TestServer } from './test-server.ts';
import { canRun } from '../../../../tests/ci.ts';

const files = (meta: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta).toString('base64') }] });
const DB = files('name: db\nsummary: s\ndescription: d\nprovides:\n  db: {interface: pgsql}\n');
const APP = files('name: app\nsummary: s\ndescription: d\nrequires:\n  db: {interface: pgsql}\n');

let server: TestServer;
let svc: Services;
let rel: number;
let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  server = await startTestServer('admin', (s) => {
    s.applications.deploy({ model: 'm', app: 'db', charmUrl: s.charms.add('m', DB).url, numUnits: 1, config: {}, constraints: '', to: [] });
    s.applications.deploy({ model: 'm', app: 'app', charmUrl: s.charms.add('m', APP).url, numUnits: 1, config: {}, constraints: '', to: [] });
    rel = s.relations.integrate('m', 'app', 'db').id;
    s.agent.enterScope('m', 'db/0', rel, '127.0.0.1');
    s.agent.enterScope('m', 'app/0', rel, '127.0.0.2');
    s.store.tx(() => {
      const bag = { 'private-address': '127.0.0.1', 'ingress-address': '127.0.0.1', 'egress-subnets': '127.0.0.1/32', host: '127.0.0.1', port: String(echoPort), database: 'wp' };
      s.store.db.prepare('UPDATE relation_settings SET data = ?, version = version + 1 WHERE model = ? AND relation_id = ? AND owner = ?').run(JSON.stringify(bag), 'm', rel, 'db/0');
    });
  });
  svc = server.svc;
  svc.chaosProxies = new ChaosProxies('127.0.0.1');
});

afterAll(async () => {
  await svc.chaosProxies?.close();
  await server.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}/api/models/m${path}`, {
    method,
    headers: { authorization: 'Bearer admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { message: string; hint?: string } } };
};

/** What app/0's agent sees of db/0 in the relation: the bag and the member version. */
function consumerView(): { bag: Record<string, string>; version: number } {
  const machine = svc.reads.unit('m', 'app/0')!.machine!;
  const view = new AgentViews(svc.store).full('m', machine);
  const r = view.units[0]!.relations.find((x) => x.id === rel)!;
  return { bag: r.unitData['db/0']!, version: r.members['db/0']! };
}

function roundTrip(address: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const start = performance.now();
    socket.on('connect', () => socket.write('ping'));
    socket.on('data', () => {
      resolve(performance.now() - start);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('sigil chaos add / remove on a relation', () => {
  it('refuses bad input with a hint and changes nothing', async () => {
    const before = consumerView();
    const cases: [unknown, number, RegExp][] = [
      [{ a: 'app:db', b: 'nope', faults: { latencyMs: 10 } }, 404, /no relation between app:db and nope/],
      [{ a: 'app:db', b: 'db', faults: {} }, 400, /no fault given/],
      [{ a: 'app:db', b: 'db', faults: { latencyMs: 10, toxicity: 1.5 } }, 400, /toxicity 1.5 is outside 0..1/],
      [{ a: 'app:db', b: 'db', faults: { httpError: { status: 42, rate: 0.2 } } }, 400, /not an HTTP status/],
    ];
    for (const [body, status, message] of cases) {
      const res = await api('POST', '/chaos', body);
      expect(res.status).toBe(status);
      expect(res.body.error!.message).toMatch(message);
      expect(res.body.error!.hint).toBeTruthy();
    }
    expect((await api('GET', '/chaos')).body).toEqual([]);
    expect(consumerView()).toEqual(before);
    expect(svc.chaosProxies!.proxies.list()).toEqual([]);
  });

  it('points the consumer at a proxy that adds the latency, and restores the exact bag on remove', async () => {
    const before = consumerView();
    expect(before.bag['port']).toBe(String(echoPort));

    const added = await api('POST', '/chaos', { a: 'app:db', b: 'db', faults: { latencyMs: 150 } });
    expect(added.status).toBe(200);
    const listeners = added.body['listeners'] as { unit: string; port: number; listen: string }[];
    expect(listeners).toEqual([{ unit: 'db/0', host: '127.0.0.1', port: echoPort, listen: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as string }]);
    const listen = listeners[0]!.listen;

    const during = consumerView();
    expect(during.bag).toEqual({ ...before.bag, host: '127.0.0.1', port: listen.split(':')[1] });
    expect(during.version).toBeGreaterThan(before.version);
    expect(await roundTrip(listen)).toBeGreaterThanOrEqual(149);

    const again = await api('POST', '/chaos', { a: 'app:db', b: 'db', faults: { latencyMs: 10 } });
    expect(again.status).toBe(409);
    expect(again.body.error!.hint).toMatch(/sigil chaos remove/);

    const status = (await api('GET', '/status')).body as unknown as { integrations: { provider: string; status: string; message?: string }[] };
    expect(status.integrations).toEqual([expect.objectContaining({ provider: 'db:db', status: 'joined', message: 'chaos: latency 150ms' })]);
    const listed = (await api('GET', '/chaos')).body as unknown as { key: string; consumer: string; provider: string; faults: unknown }[];
    expect(listed).toMatchObject([{ key: 'app:db db:db', consumer: 'app', provider: 'db', faults: { latencyMs: 150 } }]);
    // The GUI's model marks the relation, in its snapshot and in the delta a browser gets.
    const gui = new GuiView(svc.store, { connected: () => true, published: () => [] });
    const guiChaos = { faults: { latencyMs: 150 }, listeners: [{ unit: 'db/0', host: '127.0.0.1', port: echoPort, listen }] };
    expect(gui.snapshot('m').model.relations[String(rel)]!.chaos).toEqual(guiChaos);
    const changedAt = svc.store.revision();

    expect((await api('POST', '/chaos/remove', { a: 'app', b: 'db' })).status).toBe(200);
    const after = consumerView();
    expect(after.bag).toEqual(before.bag);
    const removed = gui.deltas('m', svc.store.changesSince(changedAt)).find((d) => d.kind === 'relation');
    expect(removed).toMatchObject({ op: 'put', value: { id: rel } });
    expect((removed as { value: { chaos?: unknown } }).value.chaos).toBeUndefined();
    expect(((await api('GET', '/status')).body as unknown as { integrations: { message?: string }[] }).integrations[0]!.message).toBeUndefined();
    expect(after.version).toBeGreaterThan(during.version);
    expect((await api('POST', '/chaos/remove', { a: 'app', b: 'db' })).status).toBe(404);
  });
});

const nftWorks = process.getuid?.() === 0 && (() => {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('a controller restart', () => {
  it('reopens the proxies at the same addresses with their faults, and closes them once chaos is removed', async () => {
    const added = await api('POST', '/chaos', { a: 'app', b: 'db', faults: { latencyMs: 150 } });
    expect(added.status).toBe(200);
    const listen = (added.body['listeners'] as { listen: string }[])[0]!.listen;
    const seenBefore = consumerView();
    // The old process goes away with its listeners; a new one starts from the store.
    await svc.chaosProxies!.close();
    const restarted = new ChaosProxies('127.0.0.1');
    svc.chaosProxies = restarted;
    const ctx = { store: svc.store, log: silentLogger } as unknown as WorkerContext;
    await restarted.reconcile(ctx);
    expect(restarted.proxies.list().map((p) => p.listen)).toEqual([listen]);
    expect(consumerView()).toEqual(seenBefore);
    expect(await roundTrip(listen)).toBeGreaterThanOrEqual(149);

    expect((await api('POST', '/chaos/remove', { a: 'app', b: 'db' })).status).toBe(200);
    const removedAt = svc.store.revision();
    // Removed, the proxy passes traffic on without its faults while the consumer moves off it:
    // nothing in flight is cut, nothing new refused.
    await restarted.reconcile(ctx);
    expect(restarted.proxies.list().map((p) => [p.listen, p.toxicList()])).toEqual([[listen, []]]);
    expect(await roundTrip(listen)).toBeLessThan(149);
    // Once every consumer unit has settled past the removal and the last connection through
    // it has closed (the round trip's, a moment after), it closes.
    expect(svc.reads.units('m', 'app').length).toBeGreaterThan(0);
    for (const u of svc.reads.units('m', 'app')) svc.store.tx(() => new AgentRepository(svc.store).setSettled('m', u.name, removedAt));
    await vi.waitFor(async () => {
      await restarted.reconcile(ctx);
      expect(restarted.proxies.list()).toEqual([]);
    });
  });

  it('is keyed by model: another model\'s run leaves these proxies alone, and a model with no chaos left closes its own', async () => {
    const added = await api('POST', '/chaos', { a: 'app', b: 'db', faults: { latencyMs: 10 } });
    const listen = (added.body['listeners'] as { listen: string }[])[0]!.listen;
    const proxies = svc.chaosProxies!;
    const ctx = { store: svc.store, log: silentLogger } as unknown as WorkerContext;
    expect(proxies.models()).toEqual(['m']);
    // A proxy of a model that has no chaos recorded (a destroyed model's, say).
    await proxies.proxies.add({ name: ChaosProxies.proxyName('gone', 1, 'x/0', 1), listen: '127.0.0.1:0', upstream: '127.0.0.1:1', enabled: true });
    await proxies.reconcile(ctx, 'other');
    expect(proxies.proxies.list().map((p) => p.listen)).toHaveLength(2);
    expect(proxies.models().sort()).toEqual(['gone', 'm']);
    await proxies.reconcile(ctx, 'gone');
    expect(proxies.proxies.list().map((p) => p.listen)).toEqual([listen]);
    await proxies.reconcile(ctx, 'm');
    expect(proxies.proxies.list().map((p) => p.listen)).toEqual([listen]);
    expect((await api('POST', '/chaos/remove', { a: 'app', b: 'db' })).status).toBe(200);
  });
});

describe('sigil chaos partition / heal', () => {
  it('refuses on a controller without an LXC bridge, with a hint', async () => {
    const res = await api('POST', '/chaos/partition', { target: 'app' });
    expect(res.status).toBe(503);
    expect(res.body.error!.message).toMatch(/partitions need machines on an LXC bridge/);
    expect(res.body.error!.hint).toMatch(/--provider lxc/);
  });

  // A bridge name no interface has: the rules match no packet on this host.
  it.runIf(canRun(nftWorks, 'root with nftables (nft)'))('cuts an application from another both ways, lists it, and heals', async () => {
    const bridge = `sgt-r${process.pid % 10000}`;
    const before = svc.chaosProxies!;
    svc.chaosProxies = new ChaosProxies('127.0.0.1', bridge);
    try {
      svc.store.tx(() => {
        for (const [unit, address] of [['app/0', '10.251.0.2'], ['db/0', '10.251.0.3']] as const) {
          svc.store.db.prepare('UPDATE machines SET address = ? WHERE model = ? AND id = ?').run(address, 'm', svc.reads.unit('m', unit)!.machine!);
        }
      });
      const bad = await api('POST', '/chaos/partition', { target: 'nope' });
      expect(bad.status).toBe(404);
      expect(bad.body.error!.hint).toBeTruthy();
      expect((await api('POST', '/chaos/partition', { target: 'app', from: 'db', forMs: 60_000 })).status).toBe(200);
      const listed = (await api('GET', '/chaos/partitions')).body as unknown as { pairs: { from: string; to: string }[] };
      expect(listed.pairs.map((p) => `${p.from}>${p.to}`).sort()).toEqual(['10.251.0.2>10.251.0.3', '10.251.0.3>10.251.0.2']);
      expect((await api('POST', '/chaos/heal')).status).toBe(200);
      expect((await api('GET', '/chaos/partitions')).body).toEqual({ cut: [], pairs: [] });
      // A unit stands for its machine (`sigil chaos partition wordpress/1`).
      const noUnit = await api('POST', '/chaos/partition', { target: 'app/9' });
      expect(noUnit.status).toBe(404);
      expect(noUnit.body.error!.message).toMatch(/unit "app\/9" not found/);
      expect((await api('GET', '/chaos/partitions')).body).toEqual({ cut: [], pairs: [] });
      expect((await api('POST', '/chaos/partition', { target: 'app/0', forMs: 60_000 })).status).toBe(200);
      expect(((await api('GET', '/chaos/partitions')).body as unknown as { cut: { address: string }[] }).cut.map((c) => c.address)).toEqual(['10.251.0.2']);
      expect((await api('POST', '/chaos/heal')).status).toBe(200);
    } finally {
      svc.chaosProxies = before;
      await dropTable(bridge);
    }
  });
});

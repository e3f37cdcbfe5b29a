import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy, type Latency } from 'toxiproxy-node-client';
import { ProxyCollection } from './collection.ts';
import { serveApi, TOXIPROXY_API_VERSION, type ApiServer } from './api.ts';
import { echoServer, exchange } from './testkit.ts';

// The API driven by the real npm client (toxiproxy-node-client) and by raw HTTP where the
// client hides the status or body, with real TCP traffic through the proxies on loopback.
let api: ApiServer;
let echo: Awaited<ReturnType<typeof echoServer>>;
let client: Toxiproxy;

beforeAll(async () => {
  echo = await echoServer();
  api = await serveApi(new ProxyCollection(), '127.0.0.1', 0);
  client = new Toxiproxy(api.url);
});

afterAll(async () => {
  await api.close();
  await echo.close();
});

afterEach(async () => {
  for (const proxy of Object.values(await client.getAll())) await proxy.remove();
});

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') && text ? (JSON.parse(text) as unknown) : undefined;
  return { status: res.status, text, json };
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

async function echoProxy(name = 'echo') {
  const proxy = await client.createProxy({ name, listen: '127.0.0.1:0', upstream: echo.address });
  return { proxy, port: portOf(proxy.listen) };
}

describe('proxies', () => {
  it('reports its version as JSON', async () => {
    expect(JSON.parse(await client.getVersion())).toEqual({ version: TOXIPROXY_API_VERSION });
  });

  it('creates a proxy on an ephemeral port that carries real traffic, and lists it', async () => {
    const { proxy, port } = await echoProxy();
    expect(port).toBeGreaterThan(0);
    expect(proxy.enabled).toBe(true);
    const got = await exchange(port, 'hello', 5);
    expect(got.data).toBe('hello');
    const all = await raw('GET', '/proxies');
    expect(all.json).toEqual({ echo: { name: 'echo', listen: proxy.listen, upstream: echo.address, enabled: true, toxics: [] } });
    expect((await client.get('echo')).upstream).toBe(echo.address);
  });

  it("answers Toxiproxy's errors: missing fields, a name in use, a port in use, an unknown proxy", async () => {
    expect(await raw('POST', '/proxies', { upstream: echo.address })).toMatchObject({ status: 400, json: { error: 'missing required field: name', status: 400 } });
    expect(await raw('POST', '/proxies', { name: 'x' })).toMatchObject({ status: 400, json: { error: 'missing required field: upstream', status: 400 } });
    expect(await raw('POST', '/proxies', '{bad json')).toMatchObject({ status: 400 });
    const { port } = await echoProxy('taken');
    expect(await raw('POST', '/proxies', { name: 'taken', upstream: echo.address })).toMatchObject({ status: 409, json: { error: 'proxy already exists', status: 409 } });
    expect(await raw('POST', '/proxies', { name: 'other', listen: `127.0.0.1:${port}`, upstream: echo.address })).toMatchObject({
      status: 500,
      json: { error: `listen tcp 127.0.0.1:${port}: bind: address already in use`, status: 500 },
    });
    expect(Object.keys(await client.getAll())).toEqual(['taken']);
    expect(await raw('GET', '/proxies/nope')).toMatchObject({ status: 404, json: { error: 'proxy not found', status: 404 } });
    expect(await raw('DELETE', '/proxies/nope')).toMatchObject({ status: 404, json: { error: 'proxy not found', status: 404 } });
    await expect(client.get('nope')).rejects.toThrow(/404/);
  });

  it('refuses browsers with 403, as Toxiproxy does', async () => {
    const res = await raw('GET', '/proxies', undefined, { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)' });
    expect(res).toMatchObject({ status: 403, text: 'User agent not allowed\n' });
  });

  it('disables and enables a proxy: the listener goes away and comes back on the same address', async () => {
    const { proxy, port } = await echoProxy();
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    expect((await exchange(port, 'x', 1)).ending).toBe('error');
    const enabled = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.listen).toBe(proxy.listen);
    expect((await exchange(port, 'back', 4)).data).toBe('back');
  });

  it('deletes a proxy with 204 and closes its listener', async () => {
    const { port } = await echoProxy();
    expect((await raw('DELETE', '/proxies/echo')).status).toBe(204);
    expect((await exchange(port, 'x', 1)).ending).toBe('error');
  });
});

describe('populate', () => {
  it('creates proxies, keeps identical ones, replaces changed ones, 201 with {proxies}', async () => {
    const first = await client.populate([
      { name: 'one', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'two', listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
    ]);
    expect(first['one']!.enabled).toBe(true);
    expect(first['two']!.enabled).toBe(false);
    const again = await raw('POST', '/populate', [{ name: 'one', listen: first['one']!.listen, upstream: echo.address }]);
    expect(again.status).toBe(201);
    expect(again.json).toEqual({ proxies: [{ name: 'one', listen: first['one']!.listen, upstream: echo.address, enabled: true, toxics: [] }] });
    const replaced = await client.populate([{ name: 'one', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }]);
    expect(replaced['one']!.upstream).toBe('127.0.0.1:1');
  });

  it('checks every definition before creating any', async () => {
    const res = await raw('POST', '/populate', [
      { name: 'ok', upstream: echo.address },
      { upstream: echo.address },
    ]);
    expect(res).toMatchObject({ status: 400, json: { error: 'missing required field: name at proxy 2', status: 400 } });
    expect(await client.getAll()).toEqual({});
  });
});

describe('toxics', () => {
  it('adds, reads, updates and removes a latency toxic; a round trip takes at least the latency while it is on', async () => {
    const { proxy, port } = await echoProxy();
    expect((await exchange(port, 'warm', 4)).data).toBe('warm');
    const toxic = await proxy.addToxic<Latency>({ name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 120, jitter: 0 } });
    expect(toxic.name).toBe('lag');
    const shown = await raw('GET', '/proxies/echo/toxics/lag');
    expect(shown.json).toEqual({ attributes: { latency: 120, jitter: 0 }, name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1 });
    const slow = await exchange(port, 'ping', 4);
    expect(slow.data).toBe('ping');
    expect(slow.ms).toBeGreaterThanOrEqual(119);

    const updated = await raw('POST', '/proxies/echo/toxics/lag', { attributes: { latency: 600 } });
    expect(updated.json).toMatchObject({ attributes: { latency: 600, jitter: 0 }, toxicity: 1 });
    const slower = await exchange(port, 'ping', 4);
    expect(slower.ms).toBeGreaterThanOrEqual(599);

    await toxic.remove();
    expect((await raw('GET', '/proxies/echo/toxics')).json).toEqual([]);
    const fast = await exchange(port, 'ping', 4);
    expect(fast.data).toBe('ping');
    expect(fast.ms).toBeLessThan(599);
  });

  it('upstream latency delays the request on a connection already open', async () => {
    const { port } = await echoProxy();
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const roundTrip = async () => {
      const start = performance.now();
      socket.write('x');
      await new Promise((resolve) => socket.once('data', resolve));
      return performance.now() - start;
    };
    await roundTrip();
    expect((await raw('POST', '/proxies/echo/toxics', { type: 'latency', stream: 'upstream', attributes: { latency: 500 } })).status).toBe(200);
    expect(await roundTrip()).toBeGreaterThanOrEqual(499);
    expect((await raw('DELETE', '/proxies/echo/toxics/latency_upstream')).status).toBe(204);
    expect(await roundTrip()).toBeLessThan(499);
    socket.destroy();
  });

  it('a stream keeps every byte in order while toxics come and go on its live connection', async () => {
    // Bytes take the direct path while a direction has no toxic and the toxic pipeline while
    // it has one; switching between them mid-stream must neither drop nor reorder a byte.
    const { proxy, port } = await echoProxy();
    const sent = Buffer.alloc(8 << 20);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32LE(i, i);
    const socket = net.connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    let got = 0;
    const echoed = new Promise<void>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        parts.push(d);
        got += d.length;
        if (got >= sent.length) resolve();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    let toggles = 0;
    for (let at = 0; at < sent.length; at += 256 << 10) {
      if (!socket.write(sent.subarray(at, at + (256 << 10)))) await new Promise((r) => socket.once('drain', r));
      const stream = toggles % 4 < 2 ? 'upstream' : 'downstream';
      if (toggles % 2 === 0) await proxy.addToxic<Latency>({ name: `l${toggles}`, type: 'latency', stream, toxicity: 1, attributes: { latency: 1, jitter: 0 } });
      else await proxy.getToxic(`l${toggles - 1}`).then((t) => t.remove());
      toggles++;
    }
    await echoed;
    socket.destroy();
    expect(toggles).toBe(32);
    expect(got).toBe(sent.length);
    expect(Buffer.concat(parts).equals(sent)).toBe(true);
  });

  it("answers Toxiproxy's toxic errors and changes nothing", async () => {
    await echoProxy();
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'walrus' })).toMatchObject({ status: 400, json: { error: 'invalid toxic type', status: 400 } });
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'latency', stream: 'walrustream' })).toMatchObject({
      status: 400,
      json: { error: 'stream was invalid, can be either upstream or downstream', status: 400 },
    });
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'latency', toxicity: 2 })).toMatchObject({ status: 400 });
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latancy: 1 } })).toMatchObject({ status: 400 });
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'latency' })).toMatchObject({ status: 200 });
    expect(await raw('POST', '/proxies/echo/toxics', { type: 'latency' })).toMatchObject({ status: 409, json: { error: 'toxic already exists', status: 409 } });
    expect(await raw('GET', '/proxies/echo/toxics/nope')).toMatchObject({ status: 404, json: { error: 'toxic not found', status: 404 } });
    expect(await raw('DELETE', '/proxies/echo/toxics/nope')).toMatchObject({ status: 404, json: { error: 'toxic not found', status: 404 } });
    expect(await raw('POST', '/proxies/nope/toxics', { type: 'latency' })).toMatchObject({ status: 404, json: { error: 'proxy not found', status: 404 } });
    expect((await raw('GET', '/proxies/echo/toxics')).json).toEqual([
      { attributes: { latency: 0, jitter: 0 }, name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1 },
    ]);
  });

  it('limit_data closes the connection after the given bytes', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 'cap', type: 'limit_data', stream: 'downstream', toxicity: 1, attributes: { bytes: 4 } });
    const got = await exchange(port, 'abcdefgh', 8);
    expect(got.data).toBe('abcd');
    expect(got.ending).toBe('end');
  });

  it('timeout swallows data and closes after the timeout', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 't', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 100 } });
    const got = await exchange(port, 'lost', 4);
    expect(got).toMatchObject({ data: '', ending: 'end' });
    expect(got.ms).toBeGreaterThanOrEqual(99);
  });

  it('reset_peer resets the connection (ECONNRESET)', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 'rst', type: 'reset_peer', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    expect((await exchange(port, 'x', 1)).ending).toBe('reset');
  });

  it('slow_close holds the close, slicer keeps the data whole, bandwidth caps the rate', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 'slow', type: 'slow_close', stream: 'downstream', toxicity: 1, attributes: { delay: 150 } });
    await proxy.addToxic({ name: 'cap', type: 'limit_data', stream: 'upstream', toxicity: 1, attributes: { bytes: 3 } });
    // limit_data closes the upstream side after 3 bytes; the echo server then closes, and the
    // close reaches the client only after slow_close's delay.
    const closed = await exchange(port, 'abcdef', 99);
    expect(closed).toMatchObject({ data: 'abc', ending: 'end' });
    expect(closed.ms).toBeGreaterThanOrEqual(149);
    await client.reset();

    await proxy.addToxic({ name: 'slices', type: 'slicer', stream: 'downstream', toxicity: 1, attributes: { average_size: 3, size_variation: 1, delay: 100 } });
    const text = 'the quick brown fox jumps over the lazy dog';
    expect((await exchange(port, text, text.length)).data).toBe(text);
    await client.reset();

    // 20 KB/s: 4000 bytes need at least 150 ms (the first 100 ms piece leaves after 100 ms).
    await proxy.addToxic({ name: 'bw', type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate: 20 } });
    const big = 'y'.repeat(4000);
    const capped = await exchange(port, big, big.length);
    expect(capped.data.length).toBe(4000);
    expect(capped.ms).toBeGreaterThanOrEqual(190);
  });

  it('toxicity 0 leaves connections untouched', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 'never', type: 'timeout', stream: 'downstream', toxicity: 0, attributes: { timeout: 0 } });
    expect((await exchange(port, 'fine', 4)).data).toBe('fine');
  });

  it('reset enables every proxy and removes every toxic (204)', async () => {
    const { proxy, port } = await echoProxy();
    await proxy.addToxic({ name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 1000, jitter: 0 } });
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect((await raw('POST', '/reset')).status).toBe(204);
    const after = await client.get('echo');
    expect(after.enabled).toBe(true);
    expect((await raw('GET', '/proxies/echo')).json).toMatchObject({ toxics: [] });
    const got = await exchange(port, 'quick', 5);
    expect(got.data).toBe('quick');
    expect(got.ms).toBeLessThan(1000);
  });
});

describe('curl, as the Toxiproxy README uses the API', () => {
  it('creates a proxy, adds a toxic and lists them', async () => {
    // curl runs as its own process (asynchronously: this process serves the API).
    const curl = async (...args: string[]) => (await promisify(execFile)('curl', ['-s', '-S', ...args], { encoding: 'utf8' })).stdout;
    const created = JSON.parse(await curl('-X', 'POST', `${api.url}/proxies`, '-d', JSON.stringify({ name: 'redis', listen: '127.0.0.1:0', upstream: echo.address }))) as { listen: string };
    expect(created).toMatchObject({ name: 'redis', enabled: true });
    const toxic = JSON.parse(await curl('-X', 'POST', `${api.url}/proxies/redis/toxics`, '-d', '{"type":"latency","attributes":{"latency":1000}}')) as unknown;
    expect(toxic).toEqual({ attributes: { latency: 1000, jitter: 0 }, name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1 });
    const code = await curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', `${api.url}/proxies/redis/toxics/latency_downstream`);
    expect(code).toBe('204');
    expect(JSON.parse(await curl(`${api.url}/proxies`))).toEqual({ redis: { name: 'redis', listen: created.listen, upstream: echo.address, enabled: true, toxics: [] } });
  });
});

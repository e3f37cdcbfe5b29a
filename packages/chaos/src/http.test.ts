import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyCollection } from './collection.ts';
import { FrameParser } from './http-frame.ts';
import { parseToxic } from './toxics.ts';
import { echoServer } from './testkit.ts';

// HTTP-aware toxics against a real node:http server on loopback, driven by real clients
// (node's http with keep-alive, and raw sockets for pipelining).
let backend: http.Server;
let backendPort: number;
const seen: string[] = [];

beforeAll(async () => {
  backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url === '/big') return res.end('x'.repeat(100));
      if (req.url === '/chunked') {
        res.write('part1-');
        return res.end('part2');
      }
      res.end(`ok ${req.url} ${body}`);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as net.AddressInfo).port;
});

afterAll(async () => {
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

/** A proxy in front of the backend with one HTTP toxic; `draws` scripts the random numbers. */
async function proxied(toxic: Record<string, unknown>, draws: number[] = [], upstream = `127.0.0.1:${backendPort}`) {
  const proxies = new ProxyCollection({ random: () => draws.shift() ?? 0 });
  const proxy = await proxies.add({ name: 'web', listen: '127.0.0.1:0', upstream, enabled: true });
  proxy.addToxic(parseToxic(toxic));
  const port = Number(proxy.listen.split(':')[1]);
  return { port, close: () => proxies.close() };
}

/** Sends raw bytes and reads until the peer closes or `until` matches. */
function rawExchange(port: number, text: string, until: RegExp): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => done(false), 5000);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed });
    };
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (until.test(data)) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
  });
}

describe('http_error', () => {
  it('answers the status to every request at rate 1, over one keep-alive connection, and the backend sees none', async () => {
    const p = await proxied({ type: 'http_error', attributes: { status: 503, rate: 1 } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    seen.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetchVia(p.port, `/r${i}`, agent);
      statuses.push(res.status);
      expect(res.body).toBe('sigil chaos: injected 503\n');
    }
    expect(statuses).toEqual([503, 503, 503]);
    expect(seen).toEqual([]);
    agent.destroy();
    await p.close();
  });

  it('keeps pipelined answers in order: a forwarded, b injected, c forwarded; bodies of failed requests are swallowed', async () => {
    // Draws: the link's stage and the session's toxicity (0: on), then one per request against rate 0.5.
    const p = await proxied({ type: 'http_error', attributes: { status: 500, rate: 0.5 } }, [0, 0, 0.9, 0.1, 0.9]);
    seen.length = 0;
    const req = (path: string, body: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const out = await rawExchange(p.port, req('/a', 'one') + req('/b', 'two') + `POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\n\r\n`, /ok \/c three/);
    const statuses = [...out.data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '500', '200']);
    expect(out.data.indexOf('ok /a one')).toBeLessThan(out.data.indexOf('injected 500'));
    expect(out.data.indexOf('injected 500')).toBeLessThan(out.data.indexOf('ok /c three'));
    expect(seen).toEqual(['POST /a one', 'POST /c three']);
    await p.close();
  });

  it('passes bytes that are not HTTP through untouched', async () => {
    const echo = await echoServer();
    const p = await proxied({ type: 'http_error', attributes: { status: 503, rate: 1 } }, [], echo.address);
    const out = await rawExchange(p.port, 'PING not http\r\n\r\nmore', /more/);
    expect(out.data).toBe('PING not http\r\n\r\nmore');
    await p.close();
    await echo.close();
  });
});

describe('http_abort', () => {
  it('cuts a response after `bytes` of its body and closes the connection', async () => {
    const p = await proxied({ type: 'http_abort', attributes: { bytes: 5, rate: 1 } });
    const out = await rawExchange(p.port, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n', /$^/);
    expect(out.closed).toBe(true);
    expect(out.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.data).toContain('Content-Length: 100\r\n');
    expect(out.data.endsWith('\r\n\r\nxxxxx')).toBe(true);
    const viaClient = await fetchVia(p.port, '/big', new http.Agent()).catch((e: Error) => e);
    expect(viaClient).toBeInstanceOf(Error);
    await p.close();
  });

  it('at rate 0 leaves responses whole, chunked ones included', async () => {
    const p = await proxied({ type: 'http_abort', attributes: { bytes: 0, rate: 0 } }, [0, 0, 0.5, 0.5]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await fetchVia(p.port, '/chunked', agent)).body).toBe('part1-part2');
    expect((await fetchVia(p.port, '/big', agent)).body).toBe('x'.repeat(100));
    agent.destroy();
    await p.close();
  });
});

describe('FrameParser', () => {
  it('frames HEAD, 204, 100-continue and chunked responses on one connection', () => {
    const methods = ['HEAD', 'GET', 'POST', 'GET'];
    const parser = new FrameParser('response', (i) => methods[i]!);
    const stream =
      'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok' +
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    // Fed a few bytes at a time, the boundaries are the same.
    const ends: number[] = [];
    const bytes = Buffer.from(stream);
    for (let i = 0; i < bytes.length; i += 7) for (const seg of parser.feed(bytes.subarray(i, i + 7))) if (seg.ends) ends.push(seg.msg);
    expect(ends).toEqual([0, 1, 2, 3]);
    expect(parser.raw).toBe(false);
  });

  it('goes raw on an upgrade', () => {
    const parser = new FrameParser('request');
    parser.feed(Buffer.from('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    expect(parser.raw).toBe(true);
    expect(parser.feed(Buffer.from('GET / HTTP/1.1\r\n\r\n'))[0]!.msg).toBe(-1);
  });
});

function fetchVia(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

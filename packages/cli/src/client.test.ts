import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WebSocketServer } from 'ws';
import { certFingerprint } from '@sigil/core/tls';
import { Client } from './client.ts';
import { createControllerPki } from './tls/pki.ts';

// A real HTTPS server on an ephemeral port stands in for the controller; its "restart" is
// the port refusing connections for a while, or dropping them after a request arrived.

const pki = await createControllerPki('test', ['127.0.0.1']);

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function serve(port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer({ key: pki.key, cert: pki.cert }, handler);
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function client(port: number, retryForMs: number, dir = '/nonexistent', ca = pki.caCert): Client {
  return new Client('test', { endpoint: `https://127.0.0.1:${port}`, dir, provider: 'local-process', 'current-model': 'default', 'ca-cert': ca }, 'token', 'default', { retryForMs });
}

const answer = (res: ServerResponse, body: unknown) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

describe('Client requests while the controller restarts', () => {
  it('retries a GET through refused connections until the controller is back', async () => {
    const port = await freePort();
    const started = Date.now();
    const call = client(port, 10_000).request<{ ok: boolean }>('GET', '/api/health');
    await new Promise((r) => setTimeout(r, 400));
    await serve(port, (_req, res) => answer(res, { ok: true }));
    expect(await call).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('retries a POST through refused connections: a refused request never reached the controller', async () => {
    const port = await freePort();
    const bodies: string[] = [];
    const call = client(port, 10_000).request<{ id: number }>('POST', '/api/things', { name: 'x' });
    await new Promise((r) => setTimeout(r, 300));
    await serve(port, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        answer(res, { id: 1 });
      });
    });
    expect(await call).toEqual({ id: 1 });
    expect(bodies).toEqual(['{"name":"x"}']);
  });

  it('does not repeat a POST whose connection was lost after it was sent, and says it may have been applied', async () => {
    const port = await freePort();
    let hits = 0;
    await serve(port, (req) => {
      hits++;
      req.socket.destroy();
    });
    const err = await client(port, 5_000).request('POST', '/api/models/default/exec', { units: ['a/0'] }).then(() => undefined, (e: unknown) => e as Error & { code?: string; hint?: string });
    expect(hits).toBe(1);
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toContain('POST /api/models/default/exec');
    expect(err?.message).toContain('may or may not have been applied');
    expect(err?.hint).toContain('sigil status');
  });

  it('repeats a GET, and a POST marked safe to retry, whose connection was lost', async () => {
    const port = await freePort();
    const hits = new Map<string, number>();
    await serve(port, (req, res) => {
      const n = (hits.get(req.method!) ?? 0) + 1;
      hits.set(req.method!, n);
      if (n === 1) req.socket.destroy();
      else answer(res, { n });
    });
    const c = client(port, 5_000);
    expect(await c.request('GET', '/api/models/default/status')).toEqual({ n: 2 });
    expect(await c.request('POST', '/api/models/default/config', { a: '1' }, { safeToRetry: true })).toEqual({ n: 2 });
  });

  it('repeats a GET answered 503 by a controller that is shutting down, but not a Sigil error', async () => {
    const port = await freePort();
    let hits = 0;
    await serve(port, (req, res) => {
      hits++;
      res.statusCode = 503;
      if (req.url === '/closing' && hits === 1) answer(res, { error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 });
      else if (req.url === '/closing') {
        res.statusCode = 200;
        answer(res, { ok: true });
      } else answer(res, { error: { code: 'unavailable', message: 'provider is busy', hint: 'wait' } });
    });
    const c = client(port, 5_000);
    expect(await c.request('GET', '/closing')).toEqual({ ok: true });
    hits = 10;
    await expect(c.request('GET', '/domain')).rejects.toMatchObject({ code: 'unavailable', message: 'provider is busy', hint: 'wait' });
    expect(hits).toBe(11);
  });

  it('gives up after its budget with a message naming the controller and its address', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await client(port, 600).request('GET', '/api/health').then(() => undefined, (e: unknown) => e as Error & { code?: string; hint?: string });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toBe(`cannot connect to controller "test" at https://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(err?.hint).toContain('sigil start-controller test');
  });

  it('does not wait for a local controller whose supervisor has exited', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sigil-client-'));
    dirs.push(dir);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, 'supervisor.pid'), String(gone));
    const started = Date.now();
    await expect(client(port, 10_000, dir).request('GET', '/api/health')).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a response that is not JSON with a clear error', async () => {
    const port = await freePort();
    await serve(port, (_req, res) => res.end('<html>proxy error</html>'));
    await expect(client(port, 1_000).request('GET', '/api/health')).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('something other than JSON') });
  });
});

describe('Client.watch across a controller restart', () => {
  it('reopens a dropped feed from the last revision seen and keeps calling back until done', async () => {
    const port = await freePort();
    const server = await serve(port, () => undefined);
    const wss = new WebSocketServer({ server });
    const urls: string[] = [];
    wss.on('connection', (ws, req) => {
      urls.push(req.url!);
      if (urls.length === 1) {
        ws.send(JSON.stringify({ rev: 7 }));
        // The controller goes away mid-feed (closeAllConnections on shutdown).
        setTimeout(() => ws.terminate(), 50);
      } else ws.send(JSON.stringify({ rev: 9 }));
    });
    const revs: number[] = [];
    await client(port, 5_000).watch((m) => {
      revs.push(m.rev);
      return m.rev === 9;
    });
    wss.close();
    expect(revs).toEqual([7, 9]);
    expect(urls[0]).toContain('since=-1');
    expect(urls[1]).toContain('since=7');
  });

  it('fails, rather than returning as if done, when the controller stays away', async () => {
    const port = await freePort();
    const server = await serve(port, () => undefined);
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ rev: 1 }));
      setTimeout(() => {
        ws.terminate();
        wss.close();
        server.close();
      }, 50);
    });
    await expect(client(port, 500).watch(() => false)).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('Client pins the controller CA', () => {
  const other = createControllerPki('impostor', ['127.0.0.1']);

  it('talks to a controller whose certificate its pinned CA issued, over HTTPS and WSS', async () => {
    const port = await freePort();
    const server = await serve(port, (_req, res) => answer(res, { ok: true }));
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.send(JSON.stringify({ rev: 3 })));
    expect(await client(port, 1_000).request('GET', '/api/health')).toEqual({ ok: true });
    await client(port, 1_000).watch((m) => m.rev === 3);
    wss.close();
  });

  it('refuses a controller whose certificate another CA issued, naming the controller and the expected fingerprint', async () => {
    const port = await freePort();
    const seen: string[] = [];
    const server = await serve(port, (req, res) => {
      seen.push(req.url ?? '');
      answer(res, { ok: true });
    });
    const wss = new WebSocketServer({ server });
    const pinned = (await other).caCert;
    const expected = new RegExp(`controller "test" at https://127\\.0\\.0\\.1:${port} presented a certificate that does not verify against its pinned CA \\(expected a certificate issued by the CA with SHA-256 fingerprint ${certFingerprint(pinned)};`);
    const err = await client(port, 2_000, '/nonexistent', pinned).request('GET', '/api/health').then(() => undefined, (e: unknown) => e as { code: string; message: string; hint?: string });
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toMatch(expected);
    expect(err?.message).not.toContain(certFingerprint(pki.caCert));
    expect(err?.hint).toContain('do not send it credentials');
    await expect(client(port, 2_000, '/nonexistent', pinned).watch(() => true)).rejects.toMatchObject({ message: expect.stringMatching(expected) });
    await expect(client(port, 2_000, '/nonexistent', pinned).stream('/api/logs', () => {})).rejects.toMatchObject({ message: expect.stringMatching(expected) });
    // Nothing, the credential included, reached the server.
    expect(seen).toEqual([]);
    wss.close();
  });

  it('refuses a certificate whose addresses do not include the endpoint, even from the pinned CA', async () => {
    const elsewhere = await createControllerPki('elsewhere', ['10.9.9.9']);
    const port = await freePort();
    const server = createServer({ key: elsewhere.key, cert: elsewhere.cert }, (_req, res) => answer(res, { ok: true }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.2', () => resolve()));
    const c = new Client('test', { endpoint: `https://127.0.0.2:${port}`, dir: '/nonexistent', provider: 'local-process', 'current-model': 'default', 'ca-cert': elsewhere.caCert }, 'token', 'default', { retryForMs: 1_000 });
    await expect(c.request('GET', '/api/health')).rejects.toMatchObject({ message: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
  });

  it('will not talk to a controller entry with no pinned CA', async () => {
    const c = new Client('old', { endpoint: 'http://127.0.0.1:1', dir: '/nonexistent', provider: 'local-process', 'current-model': 'default' }, 'token', 'default', { retryForMs: 100 });
    await expect(c.request('GET', '/api/health')).rejects.toMatchObject({ message: 'controller "old" has no pinned CA certificate (it was bootstrapped before controllers served TLS)' });
  });
});

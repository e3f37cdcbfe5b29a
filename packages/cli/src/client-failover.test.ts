// A controller of several processes (replicas sharing one store): real HTTPS servers on
// ephemeral ports, one killed (its connections cut, its port refusing), the CLI expected
// on another, with the address that answered saved in its entry.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Client } from './client.ts';
import { Home, type ControllerEntry } from './home.ts';
import { createControllerPki } from './tls/pki.ts';

const pki = await createControllerPki('test', ['127.0.0.1']);

interface Replica {
  url: string;
  seen: string[];
  server: Server;
  wss: WebSocketServer;
  kill(): void;
}

const live: Replica[] = [];
let root: string;
let home: Home;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sigil-failover-'));
  home = new Home({ SIGIL_HOME: root });
});
afterEach(() => {
  for (const r of live.splice(0)) r.kill();
  rmSync(root, { recursive: true, force: true });
});

/** A controller process: `handler` answers, or `{from: its url}` does. */
async function replica(handler?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean): Promise<Replica> {
  const seen: string[] = [];
  let url = '';
  const server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      if (handler?.(req, res, body)) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ from: url }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (_ws, req) => seen.push(`WATCH ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r: Replica = {
    url, seen, server, wss,
    kill: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    },
  };
  live.push(r);
  return r;
}

function deadUrl(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(`https://127.0.0.1:${port}`));
    });
    s.on('error', reject);
  });
}

/** A client of the controller "test" whose saved entry lists `endpoints`, `endpoint` first. */
function client(endpoint: string, endpoints: string[] | undefined, retryForMs = 2_000): Client {
  const entry: ControllerEntry = { endpoint, ...(endpoints ? { endpoints } : {}), dir: '/nonexistent', provider: 'remote', 'current-model': 'default', 'ca-cert': pki.caCert };
  home.updateControllers((f) => (f.controllers.test = { ...entry, ...(endpoints ? { endpoints: [...endpoints] } : {}) }));
  return new Client('test', entry, 'token', 'default', { retryForMs, home });
}

const saved = () => home.controllers().controllers.test!;

describe('Client with several controller addresses', () => {
  it('sends a call refused at the endpoint, GET or POST, to the next address, and keeps the one that answered', async () => {
    const dead = await deadUrl();
    const b = await replica();
    const c = client(dead, [dead, b.url]);
    expect(await c.request('GET', '/api/models/default/status')).toEqual({ from: b.url });
    expect(await c.request('POST', '/api/models/default/config', { a: '1' })).toEqual({ from: b.url });
    expect(b.seen).toEqual(['GET /api/models/default/status', 'POST /api/models/default/config']);
    expect(c.entry.endpoint).toBe(b.url);
    expect(saved().endpoint).toBe(b.url);
    expect(saved().endpoints).toEqual([dead, b.url]);
  });

  it('does not repeat a POST whose connection was reset after it was sent, and says where', async () => {
    const a = await replica((req) => {
      req.socket.destroy();
      return true;
    });
    const b = await replica();
    const err = await client(a.url, [a.url, b.url]).request('POST', '/api/models/default/exec', { units: ['a/0'] }).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.message).toContain(`at ${a.url} during POST /api/models/default/exec`);
    expect(err?.message).toContain('may or may not have been applied');
    expect(a.seen).toEqual(['POST /api/models/default/exec']);
    expect(b.seen).toEqual([]);
    // A GET is asked again, of the next address.
    expect(await client(a.url, [a.url, b.url]).request('GET', '/api/health')).toEqual({ from: b.url });
  });

  it('names every address tried when none answers, with what to check', async () => {
    const dead1 = await deadUrl();
    const dead2 = await deadUrl();
    const err = await client(dead1, [dead1, dead2], 300).request('GET', '/api/health').then(() => undefined, (e: unknown) => e as Error & { code?: string; hint?: string });
    expect(err?.code).toBe('unavailable');
    expect(err?.message).toBe(`cannot connect to controller "test" at any of its 2 addresses: ${dead1} (ECONNREFUSED), ${dead2} (ECONNREFUSED)`);
    expect(err?.hint).toContain('controller hosts');
    expect(err?.hint).toContain('sigil status');
    expect(err?.stack).toBeDefined();
  });

  it('does not fall back to a saved list that lacks the endpoint (an entry pointed elsewhere)', async () => {
    const dead = await deadUrl();
    const b = await replica();
    await expect(client(dead, [b.url], 200).request('GET', '/api/health')).rejects.toMatchObject({ message: `cannot connect to controller "test" at ${dead} (ECONNREFUSED)` });
    expect(b.seen).toEqual([]);
  });

  it('saves the alive addresses a /api/controller answer lists, keeping the address it asked at', async () => {
    const b = await replica();
    const a = await replica((req, res) => {
      if (req.url !== '/api/controller') return false;
      res.end(JSON.stringify({ name: 'test', models: [], controllers: [
        { id: 'r1', url: 'https://ctl-1.example:17070', agentUrl: 'https://ctl-1.example:17070', alive: true },
        { id: 'r2', url: b.url, agentUrl: b.url, alive: true },
        { id: 'r3', url: 'https://ctl-3.example:17070', agentUrl: 'https://ctl-3.example:17070', alive: false },
      ], replica: 'r1' }));
      return true;
    });
    const c = client(a.url, undefined);
    await c.refreshEndpoints();
    expect(saved().endpoints).toEqual([a.url, b.url]);
    expect(c.entry.endpoints).toEqual([a.url, b.url]);
    // Killed: the next call goes to the other.
    a.kill();
    expect(await c.request('GET', '/api/health')).toEqual({ from: b.url });
    expect(saved().endpoint).toBe(b.url);
  });

  it('leaves the entry alone when the controller is older than replicas', async () => {
    const a = await replica((req, res) => {
      if (req.url !== '/api/controller') return false;
      res.end(JSON.stringify({ name: 'test', models: ['default'] }));
      return true;
    });
    await client(a.url, undefined).refreshEndpoints();
    expect(saved().endpoints).toBeUndefined();
  });
});

describe('Client.watch across controller processes', () => {
  it('resumes on the next address from the last revision seen when the one in use is killed', async () => {
    const a = await replica();
    const b = await replica();
    a.wss.on('connection', (ws: WebSocket) => {
      ws.send(JSON.stringify({ rev: 7 }));
      // Killed mid-feed, once the client has the revision.
      setTimeout(() => a.kill(), 50);
    });
    b.wss.on('connection', (ws: WebSocket) => ws.send(JSON.stringify({ rev: 9 })));
    const c = client(a.url, [a.url, b.url]);
    const revs: number[] = [];
    await c.watch((m) => {
      revs.push(m.rev);
      return m.rev === 9;
    });
    expect(revs).toEqual([7, 9]);
    expect(a.seen).toEqual(['WATCH /api/watch?model=default&since=-1']);
    expect(b.seen[0]).toBe('WATCH /api/watch?model=default&since=7');
    expect(saved().endpoint).toBe(b.url);
    // On another controller process: it asks for the list again.
    await vi.waitFor(() => expect(b.seen).toContain('GET /api/controller'), { timeout: 5000, interval: 20 });
  });

  it('leaves an address whose stream answers 503 (a controller shutting down) for the next', async () => {
    const closing = createServer({ key: pki.key, cert: pki.cert });
    closing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', () => resolve()));
    const url = `https://127.0.0.1:${(closing.address() as AddressInfo).port}`;
    const b = await replica();
    b.wss.on('connection', (ws: WebSocket) => ws.send(JSON.stringify({ rev: 3 })));
    await client(url, [url, b.url]).watch((m) => m.rev === 3);
    closing.close();
    expect(b.seen[0]).toBe('WATCH /api/watch?model=default&since=-1');
  });
});

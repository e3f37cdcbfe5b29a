// Several controllers (replicas sharing one store): real HTTPS servers on ephemeral ports,
// one "killed" mid-watch (its connections cut, its port refusing), the agent's client
// expected on another at once.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
// The CLI issues controller certificates at bootstrap; the test borrows its generator.
import { createControllerPki } from '../../cli/src/tls/pki.ts';
import { AgentApi } from './api-client.ts';

const pki = await createControllerPki('test', ['127.0.0.1']);

interface Controller {
  url: string;
  /** Every request, `METHOD path` (the feed's upgrade as `WATCH /api/watch`). */
  seen: string[];
  kill(): void;
}

const live: Controller[] = [];
afterEach(() => {
  for (const c of live.splice(0)) c.kill();
});

/** A controller: answers `handler`, or `{ok: true}`; lists `peers()` at /api/agent/controllers (404 when it returns undefined). */
async function controller(opts: { peers?: (self: string) => string[] | undefined; handler?: (req: IncomingMessage, res: ServerResponse) => boolean } = {}): Promise<Controller> {
  const seen: string[] = [];
  let url = '';
  const server: Server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (opts.handler?.(req, res)) return;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/agent/controllers') {
      const urls = opts.peers?.(url);
      if (urls === undefined) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { code: 'not-found', message: 'Route GET:/api/agent/controllers not found' } }));
      } else res.end(JSON.stringify({ urls }));
      return;
    }
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ ok: true, from: url })));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    seen.push(`WATCH ${req.url}`);
    ws.send(JSON.stringify({ rev: 1 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const c: Controller = {
    url,
    seen,
    // As kill -9 does: every connection cut, the port refusing new ones.
    kill: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    },
  };
  live.push(c);
  return c;
}

/** An address where nothing listens: connections are refused. */
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

/** Runs the feed in the background; returns what it saw and how to stop it. */
function follow(api: AgentApi) {
  const abort = new AbortController();
  const events: string[] = [];
  const moves: { from: string; to: string; why: string }[] = [];
  const done = api.watch(() => events.push(`message ${api.url}`), () => events.push(`connect ${api.url}`), abort.signal, () => {}, (from, to, why) => moves.push({ from, to, why }));
  return { events, moves, stop: async () => {
    abort.abort();
    await done;
  } };
}

describe('AgentApi with several controllers', () => {
  it('learns every controller after connecting, and moves to another at once when the one in use is killed', async () => {
    let b: Controller | undefined;
    const a = await controller({ peers: (self) => [self, b!.url] });
    b = await controller({ peers: (self) => [self, a.url] });
    const saved: string[][] = [];
    const api = new AgentApi(a.url, pki.caCert, 't', { onAddresses: (urls) => saved.push([...urls]) });
    const feed = follow(api);
    await vi.waitFor(() => expect(saved).toEqual([[a.url, b.url]]), { timeout: 5000, interval: 20 });
    expect(api.addresses()).toEqual([a.url, b.url]);
    const killed = Date.now();
    a.kill();
    await vi.waitFor(() => expect(feed.events).toContain(`connect ${b.url}`), { timeout: 5000, interval: 20 });
    expect(Date.now() - killed).toBeLessThan(5000);
    expect(feed.moves).toEqual([{ from: a.url, to: b.url, why: expect.any(String) }]);
    expect(api.url).toBe(b.url);
    // Calls follow the feed: the view is read again from the controller now in use.
    expect(await api.call('GET /api/agent/view', { query: { known: 'abc' } })).toEqual({ ok: true, from: b.url });
    expect(b.seen).toContain('GET /api/agent/view?known=abc');
    // The list it keeps is B's answer: the same two controllers, B in use.
    await vi.waitFor(() => expect(b.seen).toContain('GET /api/agent/controllers'), { timeout: 5000, interval: 20 });
    expect(api.addresses()).toEqual([b.url, a.url]);
    await feed.stop();
  });

  it('learns a controller that joined after it connected when told the set changed, and moves to it when the one in use is killed', async () => {
    let b: Controller | undefined;
    const a = await controller({ peers: (self) => (b ? [self, b.url] : [self]) });
    const api = new AgentApi(a.url, pki.caCert, 't');
    const feed = follow(api);
    await vi.waitFor(() => expect(a.seen).toContain('GET /api/agent/controllers'), { timeout: 5000, interval: 20 });
    expect(api.addresses()).toEqual([a.url]);
    b = await controller({ peers: (self) => [self, a.url] });
    // What the agent does on a `controllers` message of its feed.
    api.relearnAddresses();
    await vi.waitFor(() => expect(api.addresses()).toEqual([a.url, b!.url]), { timeout: 5000, interval: 20 });
    a.kill();
    await vi.waitFor(() => expect(feed.events).toContain(`connect ${b!.url}`), { timeout: 5000, interval: 20 });
    await feed.stop();
  });

  it('tries every other controller at once before it backs off', async () => {
    const dead1 = await deadUrl();
    const dead2 = await deadUrl();
    const c = await controller({ peers: (self) => [self] });
    const api = new AgentApi([dead1, dead2, c.url], pki.caCert, 't');
    const feed = follow(api);
    await vi.waitFor(() => expect(feed.events).toContain(`connect ${c.url}`), { timeout: 5000, interval: 20 });
    expect(feed.moves.map((m) => [m.from, m.to, m.why])).toEqual([[dead1, dead2, 'ECONNREFUSED'], [dead2, c.url, 'ECONNREFUSED']]);
    await feed.stop();
  });

  it('keeps the one address it has when the controller does not know the call (older than replicas)', async () => {
    const a = await controller();
    const saved: string[][] = [];
    const api = new AgentApi(a.url, pki.caCert, 't', { onAddresses: (urls) => saved.push([...urls]) });
    const feed = follow(api);
    await vi.waitFor(() => expect(a.seen).toContain('GET /api/agent/controllers'), { timeout: 5000, interval: 20 });
    await feed.stop();
    expect(api.addresses()).toEqual([a.url]);
    expect(saved).toEqual([]);
  });

  it('stays on the relay behind which a container sits, and never asks it for other addresses', async () => {
    const a = await controller({ peers: () => ['https://10.0.0.1:17070'] });
    const api = new AgentApi(a.url, pki.caCert, 't', { serverName: '127.0.0.1' });
    const feed = follow(api);
    await vi.waitFor(() => expect(feed.events).toContain(`message ${a.url}`), { timeout: 5000, interval: 20 });
    expect(await api.call('GET /api/agent/view')).toEqual({ ok: true, from: a.url });
    await feed.stop();
    expect(a.seen).not.toContain('GET /api/agent/controllers');
    expect(api.addresses()).toEqual([a.url]);
  });

  it('sends a refused call, GET or POST, to the next controller', async () => {
    const dead = await deadUrl();
    const b = await controller();
    const api = new AgentApi([dead, b.url], pki.caCert, 't');
    expect(await api.call('GET /api/agent/view')).toEqual({ ok: true, from: b.url });
    expect(await api.call('POST /api/agent/logs', { body: { lines: [] } })).toEqual({ ok: true, from: b.url });
    expect(b.seen).toEqual(['GET /api/agent/view', 'POST /api/agent/logs']);
  });

  it('does not repeat a POST whose connection was reset after it was sent, but asks the next controller for a GET', async () => {
    const a = await controller({ handler: (req) => {
      req.socket.destroy();
      return true;
    } });
    const b = await controller();
    const api = new AgentApi([a.url, b.url], pki.caCert, 't');
    await expect(api.call('POST /api/agent/dead', { body: { unit: 'u/0' } })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(a.seen).toEqual(['POST /api/agent/dead']);
    expect(b.seen).toEqual([]);
    expect(await api.call('GET /api/agent/view')).toEqual({ ok: true, from: b.url });
    expect(b.seen).toEqual(['GET /api/agent/view']);
  });

  it('does not leave a controller that refuses the credential (every controller shares one store)', async () => {
    const refusing = createServer({ key: pki.key, cert: pki.cert });
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()));
    const url = `https://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const b = await controller();
    const api = new AgentApi([url, b.url], pki.caCert, 'revoked');
    const abort = new AbortController();
    const failures: string[] = [];
    const moves: string[] = [];
    await api.watch(() => {}, () => {}, abort.signal, (e) => {
      failures.push(e.message);
      if (failures.length === 2) abort.abort();
    }, (from, to) => moves.push(`${from} ${to}`));
    refusing.close();
    expect(failures).toEqual(['Unexpected server response: 401', 'Unexpected server response: 401']);
    expect(moves).toEqual([]);
    expect(b.seen).toEqual([]);
    expect(api.url).toBe(url);
  });
});

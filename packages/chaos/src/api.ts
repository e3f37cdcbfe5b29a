import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { asApiError, ErrBadRequestBody, ErrToxicNotFound, type ApiError } from './errors.ts';
import { parseProxyInput, type ProxyCollection } from './collection.ts';
import { parseToxic } from './toxics.ts';
import type { Proxy } from './proxy.ts';

/** The Toxiproxy release whose API this one follows; `GET /version` reports it. */
export const TOXIPROXY_API_VERSION = '2.12.0';
const MAX_BODY = 1 << 20;

interface Reply {
  status: number;
  body?: unknown;
  raw?: string;
}

type Handler = (params: string[], body: () => Promise<unknown>) => Promise<Reply>;

interface Route {
  methods: string[];
  pattern: RegExp;
  handler: Handler;
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY) {
        reject(ErrBadRequestBody.with('body too large'));
        req.destroy();
        return;
      }
      parts.push(part);
    });
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      if (text.trim() === '') return reject(ErrBadRequestBody.with('EOF'));
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(ErrBadRequestBody.with((e as Error).message));
      }
    });
    req.on('error', reject);
  });
}

function withToxics(proxy: Proxy): unknown {
  return proxy.toJSON();
}

/**
 * Toxiproxy's HTTP API over a ProxyCollection: the same routes, JSON shapes, statuses and
 * error bodies, so its clients (toxiproxy-node-client, toxiproxy-cli, curl scripts) work
 * unchanged. Like Toxiproxy it refuses browsers (a `Mozilla/` user agent gets 403), so a
 * web page cannot drive it by cross-site requests.
 */
export function apiRoutes(proxies: ProxyCollection): Route[] {
  const seg = '([^/]+)';
  return [
    { methods: ['POST'], pattern: /^\/reset$/, handler: async () => (await proxies.reset(), { status: 204 }) },
    {
      methods: ['GET'],
      pattern: /^\/proxies$/,
      handler: () => Promise.resolve({ status: 200, body: Object.fromEntries(proxies.list().map((p) => [p.name, withToxics(p)])) }),
    },
    {
      methods: ['POST'],
      pattern: /^\/proxies$/,
      handler: async (_p, body) => ({ status: 201, body: withToxics(await proxies.add(parseProxyInput(await body(), {}))) }),
    },
    {
      methods: ['POST'],
      pattern: /^\/populate$/,
      handler: async (_p, body) => {
        const input = await body();
        if (!Array.isArray(input)) throw ErrBadRequestBody.with('expected a JSON array of proxies');
        // Every definition is checked before any proxy is created.
        const parsed = input.map((item, i) => parseProxyInput(item, {}, ` at proxy ${i + 1}`));
        const done: Proxy[] = [];
        try {
          for (const one of parsed) done.push(await proxies.addOrReplace(one));
        } catch (e) {
          const err = asApiError(e);
          return { status: err.status, body: { ...err.toJSON(), proxies: done.map(withToxics) } };
        }
        return { status: 201, body: { proxies: done.map(withToxics) } };
      },
    },
    { methods: ['GET'], pattern: new RegExp(`^/proxies/${seg}$`), handler: ([name]) => Promise.resolve({ status: 200, body: withToxics(proxies.get(name!)) }) },
    {
      methods: ['POST', 'PATCH'],
      pattern: new RegExp(`^/proxies/${seg}$`),
      handler: async ([name], body) => {
        proxies.get(name!);
        return { status: 200, body: withToxics(await proxies.update(name!, await body())) };
      },
    },
    { methods: ['DELETE'], pattern: new RegExp(`^/proxies/${seg}$`), handler: async ([name]) => (await proxies.remove(name!), { status: 204 }) },
    { methods: ['GET'], pattern: new RegExp(`^/proxies/${seg}/toxics$`), handler: ([name]) => Promise.resolve({ status: 200, body: proxies.get(name!).toxicList() }) },
    {
      methods: ['POST'],
      pattern: new RegExp(`^/proxies/${seg}/toxics$`),
      handler: async ([name], body) => {
        const proxy = proxies.get(name!);
        // Toxiproxy answers 200 here, not 201.
        return { status: 200, body: proxy.addToxic(parseToxic(await body())) };
      },
    },
    {
      methods: ['GET'],
      pattern: new RegExp(`^/proxies/${seg}/toxics/${seg}$`),
      handler: ([name, toxic]) => {
        const found = proxies.get(name!).getToxic(toxic!);
        if (!found) throw ErrToxicNotFound;
        return Promise.resolve({ status: 200, body: found });
      },
    },
    {
      methods: ['POST', 'PATCH'],
      pattern: new RegExp(`^/proxies/${seg}/toxics/${seg}$`),
      handler: async ([name, toxic], body) => {
        const proxy = proxies.get(name!);
        const input = await body();
        if (typeof input !== 'object' || input === null || Array.isArray(input)) throw ErrBadRequestBody.with('expected a JSON object');
        return { status: 200, body: proxy.updateToxic(toxic!, input as Record<string, unknown>) };
      },
    },
    {
      methods: ['DELETE'],
      pattern: new RegExp(`^/proxies/${seg}/toxics/${seg}$`),
      handler: ([name, toxic]) => (proxies.get(name!).removeToxic(toxic!), Promise.resolve({ status: 204 })),
    },
    { methods: ['GET'], pattern: /^\/version$/, handler: () => Promise.resolve({ status: 200, raw: `{"version": "${TOXIPROXY_API_VERSION}"}\n` }) },
  ];
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (reply.raw !== undefined) {
    res.writeHead(reply.status, { 'Content-Type': 'application/json;charset=utf-8' });
    res.end(reply.raw);
  } else if (reply.body === undefined) {
    res.writeHead(reply.status);
    res.end();
  } else {
    res.writeHead(reply.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }
}

function sendError(res: http.ServerResponse, err: ApiError): void {
  // Toxiproxy writes errors with Go's http.Error: the JSON body plus a newline.
  res.writeHead(err.status, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(err.toJSON())}\n`);
}

export function createApiHandler(proxies: ProxyCollection): http.RequestListener {
  const routes = apiRoutes(proxies);
  // One change at a time, as Toxiproxy's collection lock does: a create and a populate of
  // the same name cannot interleave their awaits.
  let queue: Promise<unknown> = Promise.resolve();
  return (req, res) => {
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('User agent not allowed\n');
      return;
    }
    const path = decodeURIComponentSafe((req.url ?? '/').split('?')[0]!);
    const method = req.method ?? 'GET';
    let match: { route: Route; params: string[] } | undefined;
    let pathKnown = false;
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (route.methods.includes(method)) {
        match = { route, params: m.slice(1) };
        break;
      }
    }
    if (!match) {
      res.writeHead(pathKnown ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(pathKnown ? '' : '404 page not found\n');
      req.resume();
      return;
    }
    const { route, params } = match;
    const run = queue.then(async () => {
      try {
        send(res, await route.handler(params, () => readBody(req)));
      } catch (e) {
        sendError(res, asApiError(e));
      } finally {
        req.resume();
      }
    });
    queue = run;
  };
}

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the API on `host:port` (port 0: any free port). Toxiproxy's default is localhost:8474. */
export async function serveApi(proxies: ProxyCollection, host: string, port: number): Promise<ApiServer> {
  const server = http.createServer(createApiHandler(proxies));
  server.requestTimeout = 25_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await proxies.close();
    },
  };
}

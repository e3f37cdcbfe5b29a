import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { isApiRoute, routeAccess } from '@sigil/api';
import { SigilError, errorHttpStatus, formatSize, isSigilError } from '@sigil/core';
import { MAX_BODY, MAX_CHARM_BODY } from './body-limits.ts';
import { storeError } from '../store/errors.ts';
import type { Services } from '../services.ts';
import type { Principal } from './auth.ts';
import { auditRefusedStream, registerAudit, registerUserRoutes, requestModel } from './user-routes.ts';
import { registerClientRoutes } from './client-routes.ts';
import { registerAgentRoutes } from './agent-routes.ts';
import { registerContainerRoutes } from './container-routes.ts';
import { registerSshKeyRoutes } from './ssh-key-routes.ts';
import { registerSecretRoutes } from './secret-routes.ts';
import { registerStorageRoutes } from './storage-routes.ts';
import { registerOfferRoutes } from './offer-routes.ts';
import { registerChaosRoutes } from './chaos-routes.ts';
import { registerRolloutRoutes } from './rollout-routes.ts';
import { registerInventoryRoutes } from './inventory-routes.ts';
import { registerBackupRoutes } from './backup-routes.ts';
import { registerOpsRoutes } from './ops-routes.ts';
import { handleWatch, handleLogStream } from './streams.ts';
import { Turns } from './turns.ts';
import { checkResponses, contractKey, routes } from './contract.ts';
import { protocolAuthorization, registerGuiRoutes } from './gui-routes.ts';
import { cookieAuthorization } from './gui-session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, set by the authorisation hook; undefined only on public routes. */
    principal: Principal;
  }
}

/** The controller's server certificate and key (PEM), issued by its CA at bootstrap. */
export interface ServerTls {
  key: string;
  cert: string;
}

/**
 * The HTTP + WebSocket JSON API. Errors leave as `{error: {code, message, hint}}` with the
 * HTTP status their code maps to; nothing else at this edge knows about HTTP.
 */
export function buildServer(svc: Services, tls?: ServerTls): FastifyInstance {
  // Bodies are bounded (charm archives have their own, larger bound on their route);
  // route parameters may be long enough for any name that was ever accepted.
  const options = { logger: false, bodyLimit: MAX_BODY, routerOptions: { maxParamLength: 512 } };
  // The controller (main.ts) always passes its certificate; only in-process route tests
  // build a server without one. The HTTPS server's type differs from the HTTP one only in
  // the TLS methods, which nothing here uses.
  const app = tls ? (Fastify({ ...options, https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' } }) as unknown as FastifyInstance) : Fastify(options);
  const auth = svc.auth;

  app.decorateRequest('principal', null as never);
  // Every route is an entry of the API contract before it can exist, and is registered from it.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      const key = `${method} ${route.url}`;
      if (routeAccess(method, route.url) === undefined) throw new Error(`route ${key} has no access declared: add it to the API contract (packages/api/src/routes/)`);
      if (method !== 'HEAD' && isApiRoute(key) && contractKey(route.config) !== key) throw new Error(`route ${key} is in the API contract: register it with routes(app) (apiserver/contract.ts), not by hand`);
    }
  });
  if (process.env.SIGIL_CHECK_RESPONSES === '1') checkResponses(app);
  // Routing happens before this hook, so it sees the matched route's pattern whatever
  // encoding, case or slashes the client used; an unmatched request has no pattern.
  app.addHook('onRequest', async (req) => {
    const pattern = req.routeOptions.url;
    const access = pattern === undefined ? undefined : routeAccess(req.method, pattern);
    // Without an Authorization header, the GUI's session cookie (never on an agent's route).
    const credential = req.headers.authorization ?? cookieAuthorization(access, req.method, req.headers, req.protocol === 'https');
    const principal = auth.authorize(access, credential, pattern === undefined ? 'this path' : `${req.method} ${pattern}`, requestModel(req));
    if (principal) req.principal = principal;
  });
  // Handlers take turns on the event loop (turns.ts), once the request's body is in.
  const turns = new Turns();
  app.addHook('preHandler', async (req) => {
    await turns.next(req.principal?.kind === 'machine' ? 'agent' : 'user');
  });
  app.setErrorHandler((caught, req, reply) => {
    // A locked or full database is a condition of the moment, not a bug: a clear error.
    const err = storeError(caught, svc.store.db.name);
    if (isSigilError(err)) return reply.status(errorHttpStatus(err.code)).send({ error: err.toJSON() });
    const e = err as { validation?: unknown; message: string; statusCode?: number };
    if (e.validation) {
      return reply.status(400).send({ error: { code: 'bad-request', message: `invalid request: ${e.message}`, hint: 'this is a client bug if it came from the sigil CLI; please report it' } });
    }
    if (e.statusCode === 413) {
      const limit = req.routeOptions.bodyLimit ?? MAX_BODY;
      return reply.status(413).send({ error: { code: 'too-large', message: `request body over the controller's limit of ${formatSize(limit)} for ${req.method} ${req.routeOptions.url ?? req.url}`, hint: `charm archives may be up to ${formatSize(MAX_CHARM_BODY)} (leave large files out with .jujuignore); other requests up to ${formatSize(MAX_BODY)}: split the change into smaller calls` } });
    }
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ error: { code: 'bad-request', message: e.message } });
    svc.log.error('request failed', { err: String(err), stack: (err as Error).stack });
    return reply.status(500).send({ error: { code: 'internal', message: e.message, hint: `see the controller log: ${svc.logPath}` } });
  });

  registerAudit(app, svc);
  routes(app)('GET /api/health', async () => ({ ok: true, revision: svc.store.revision() }));
  registerClientRoutes(app, svc);
  registerUserRoutes(app, svc);
  registerAgentRoutes(app, svc);
  registerContainerRoutes(app, svc);
  registerSshKeyRoutes(app, svc);
  registerSecretRoutes(app, svc);
  registerStorageRoutes(app, svc);
  registerOfferRoutes(app, svc);
  registerChaosRoutes(app, svc);
  registerRolloutRoutes(app, svc);
  registerInventoryRoutes(app, svc);
  registerBackupRoutes(app, svc);
  registerOpsRoutes(app, svc);
  const gui = registerGuiRoutes(app, svc);

  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const access = routeAccess('WS', url.pathname);
    let principal: Principal | undefined;
    let credential = req.headers.authorization ?? protocolAuthorization(req.headers['sec-websocket-protocol']);
    // The model a stream is about; debug-log's default model is `default` (see handleLogStream).
    const model = url.searchParams.get('model') ?? (url.pathname === '/api/logs' ? 'default' : undefined);
    try {
      credential ??= cookieAuthorization(access, 'GET', req.headers, (req.socket as TLSSocket).encrypted === true);
      principal = auth.authorize(access, credential, `stream ${url.pathname}`, model);
    } catch (e) {
      auditRefusedStream(svc, req, credential, url, isSigilError(e) ? errorHttpStatus(e.code) : 401, e);
      // The same JSON error an HTTP call gets, so a client can show its message and hint.
      const body = JSON.stringify({ error: isSigilError(e) ? e.toJSON() : { code: 'unauthorized', message: 'refused' } });
      socket.end(`HTTP/1.1 ${isSigilError(e) ? errorHttpStatus(e.code) : 401} ${isSigilError(e) && e.code === 'forbidden' ? 'Forbidden' : 'Unauthorized'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (principal === undefined) ws.close(4004, 'unknown stream');
      else if (url.pathname === '/api/watch') handleWatch(ws, url, principal, svc);
      else if (url.pathname === '/api/logs') handleLogStream(ws, url, svc);
      else if (url.pathname === '/api/gui/watch') gui.watch(ws, url);
      else ws.close(4004, 'unknown stream');
    });
  });
  app.addHook('onClose', async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  return app;
}

export function requireMachine(req: FastifyRequest): Extract<Principal, { kind: 'machine' }> {
  if (req.principal.kind !== 'machine') throw new SigilError('forbidden', 'only machine agents may call agent operations');
  return req.principal;
}

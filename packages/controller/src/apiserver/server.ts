import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { SigilError, errorHttpStatus, isSigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { Authenticator, type Principal } from './auth.ts';
import { registerClientRoutes } from './client-routes.ts';
import { registerAgentRoutes } from './agent-routes.ts';
import { handleWatch, handleLogStream } from './streams.ts';
import { isPublicGuiPath, protocolAuthorization, registerGuiRoutes } from './gui-routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * The HTTP + WebSocket JSON API. Errors leave as `{error: {code, message, hint}}` with the
 * HTTP status their code maps to; nothing else at this edge knows about HTTP.
 */
export function buildServer(svc: Services): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  const auth = new Authenticator(svc.adminTokenHash, svc.machines);

  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (req) => {
    if (req.url === '/api/health' || isPublicGuiPath(req.url)) return;
    req.principal = auth.authenticate(req.headers.authorization);
  });
  app.setErrorHandler((err, _req, reply) => {
    if (isSigilError(err)) return reply.status(errorHttpStatus(err.code)).send({ error: err.toJSON() });
    const e = err as { validation?: unknown; message: string; statusCode?: number };
    if (e.validation) {
      return reply.status(400).send({ error: { code: 'bad-request', message: `invalid request: ${e.message}`, hint: 'this is a client bug if it came from the sigil CLI; please report it' } });
    }
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ error: { code: 'bad-request', message: e.message } });
    svc.log.error('request failed', { err: String(err), stack: (err as Error).stack });
    return reply.status(500).send({ error: { code: 'internal', message: e.message, hint: `see the controller log: ${svc.logPath}` } });
  });

  app.get('/api/health', async () => ({ ok: true, revision: svc.store.revision() }));
  registerClientRoutes(app, svc);
  registerAgentRoutes(app, svc);
  const gui = registerGuiRoutes(app, svc);

  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req, socket, head) => {
    let principal: Principal;
    try {
      principal = auth.authenticate(req.headers.authorization ?? protocolAuthorization(req.headers['sec-websocket-protocol']));
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/watch') handleWatch(ws, url, principal, svc);
      else if (url.pathname === '/api/logs' && principal.kind === 'admin') handleLogStream(ws, url, svc);
      else if (url.pathname === '/api/gui/watch' && principal.kind === 'admin') gui.watch(ws, url);
      else ws.close(4004, 'unknown stream');
    });
  });
  app.addHook('onClose', async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  return app;
}

export function requireAdmin(req: FastifyRequest): void {
  if (req.principal.kind !== 'admin') throw new SigilError('forbidden', 'machine credentials cannot call client operations');
}

export function requireMachine(req: FastifyRequest): Extract<Principal, { kind: 'machine' }> {
  if (req.principal.kind !== 'machine') throw new SigilError('forbidden', 'only machine agents may call agent operations');
  return req.principal;
}

import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { checkResponses, routes } from './contract.ts';
import { startTestServer } from './test-server.ts';
import { buildServer } from './server.ts';

describe('routes registered from the API contract', () => {
  it('an answer that breaks its response schema fails the call, naming the route and the field', async () => {
    const app = Fastify();
    checkResponses(app);
    const on = routes(app);
    // A handler that answers something else than the contract says (the cast is the bug under test).
    on('GET /api/backups', async () => ({ backups: [{ name: 7 }] }) as never);
    on('GET /api/controller/agents', async () => ({ agents: [{ model: 'm', machine: '0', connected: true }] }));
    const bad = await app.inject({ method: 'GET', url: '/api/backups' });
    expect(bad.statusCode).toBe(500);
    expect(bad.json().message).toContain('the answer of GET /api/backups breaks the API contract at /backups/0');
    const good = await app.inject({ method: 'GET', url: '/api/controller/agents' });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ agents: [{ model: 'm', machine: '0', connected: true }] });
    await app.close();
  });

  it('validates the body from the contract: a missing field or a wrong type is refused before the handler runs', async () => {
    const app = Fastify();
    let ran = 0;
    routes(app)('POST /api/controller/migrate-agents', async () => {
      ran++;
      return { url: 'x', caCert: '', at: 0, machines: [] };
    });
    expect((await app.inject({ method: 'POST', url: '/api/controller/migrate-agents', payload: { url: { host: 'x' } } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/controller/migrate-agents', payload: {} })).statusCode).toBe(400);
    expect(ran).toBe(0);
    await app.close();
  });

  it('the server refuses to start with a contract route registered by hand', async () => {
    const t = await startTestServer('admin-token');
    try {
      // buildServer registers everything from the contract; a stray registration is refused at once.
      const app = buildServer(t.svc);
      expect(() => app.get('/api/backups', async () => ({ backups: [] }))).toThrow('route GET /api/backups is in the API contract: register it with routes(app)');
      expect(() => app.get('/api/nothing-declared', async () => ({}))).toThrow('has no access declared');
      await app.close();
    } finally {
      await t.close();
    }
  });
});

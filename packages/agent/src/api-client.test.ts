import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { certFingerprint } from '@sigil/core/tls';
// The CLI issues controller certificates at bootstrap; the test borrows its generator.
import { createControllerPki } from '../../cli/src/tls/pki.ts';
import { AgentApi } from './api-client.ts';

const pki = await createControllerPki('test', ['127.0.0.1']);
const impostor = await createControllerPki('impostor', ['127.0.0.1']);
const seen: string[] = [];
const server: Server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
  seen.push(req.url ?? '');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true }));
});
// The change feed refuses the credential "revoked", as the controller does a retired one.
const wss = new WebSocketServer({ server, verifyClient: (info: { req: { headers: Record<string, unknown> } }) => info.req.headers.authorization !== 'Bearer revoked' });
wss.on('connection', (ws) => ws.send(JSON.stringify({ rev: 1 })));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => {
  wss.close();
  server.close();
});

describe('AgentApi pins the controller CA', () => {
  it('talks to the controller whose certificate the pinned CA issued', async () => {
    expect(await new AgentApi(url, pki.caCert, 't').get('/api/health')).toEqual({ ok: true });
    const abort = new AbortController();
    const revs: number[] = [];
    await new AgentApi(url, pki.caCert, 't').watch((m) => {
      revs.push(m.rev);
      abort.abort();
    }, () => {}, abort.signal);
    expect(revs).toEqual([1]);
    // Once connected it asks, in the background, where every controller is.
    await vi.waitFor(() => expect(seen).toContain('/api/agent/controllers'), { timeout: 5000, interval: 20 });
  });

  it('refuses any other certificate, says which CA it expected, and sends nothing', async () => {
    const before = seen.length;
    await expect(new AgentApi(url, impostor.caCert, 't').get('/api/health')).rejects.toMatchObject({ message: expect.stringContaining(`fingerprint ${certFingerprint(impostor.caCert)}`) });
    const abort = new AbortController();
    const refused: string[] = [];
    await new AgentApi(url, impostor.caCert, 't').watch(() => {}, () => refused.push('connected'), abort.signal, (e, untrusted) => {
      refused.push(`${untrusted} ${e.message}`);
      abort.abort();
    });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^true .*presented a certificate that does not verify against its pinned CA/);
    expect(seen.length).toBe(before);
  });

  it('reports a refused credential as a failure to connect, not as an untrusted controller', async () => {
    const abort = new AbortController();
    const failures: string[] = [];
    await new AgentApi(url, pki.caCert, 'revoked').watch(() => failures.push('message'), () => failures.push('connected'), abort.signal, (e, untrusted) => {
      failures.push(`${untrusted} ${e.message}`);
      abort.abort();
    });
    expect(failures).toEqual(['false Unexpected server response: 401']);
  });
});

import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { relayServer } from './relay.ts';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));
const listen = (s: Server) => new Promise<number>((resolve) => {
  servers.push(s);
  s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
});

describe('relayServer', () => {
  it('relays the bytes both ways, and a client that has shut its write side still gets the whole answer', async () => {
    // The upstream answers only once the request has ended (as an HTTP/1.0 server reading to EOF would).
    const upstream = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => s.end(`got ${got.length} bytes: ${got.slice(0, 5)}`));
    });
    const port = await listen(relayServer({ host: '127.0.0.1', port: await listen(upstream) }));
    const answer = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => c.end('hello'.repeat(1000)));
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('error', reject);
    });
    expect(answer).toBe('got 5000 bytes: hello');
  });

  it('closes the client when the upstream cannot be reached', async () => {
    const dead = createServer();
    const deadPort = await listen(dead);
    await new Promise<void>((r) => dead.close(() => r()));
    servers.pop();
    const port = await listen(relayServer({ host: '127.0.0.1', port: deadPort }));
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect({ host: '127.0.0.1', port });
      c.on('close', () => resolve(true));
      c.on('error', () => undefined);
    });
    expect(closed).toBe(true);
  });
});

describe('relayServer with a slow reader', () => {
  it('delivers a large answer whole to a client that reads slowly after the upstream has closed', async () => {
    const big = Buffer.alloc(16 << 20, 120);
    const upstream = createServer((s) => s.end(big));
    const port = await listen(relayServer({ host: '127.0.0.1', port: await listen(upstream) }));
    const got = await new Promise<number>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port });
      let n = 0;
      c.pause();
      // Start reading only once the upstream has long finished writing.
      setTimeout(() => c.resume(), 300);
      c.on('data', (d: Buffer) => (n += d.length));
      c.on('end', () => resolve(n));
      c.on('error', reject);
    });
    expect(got).toBe(big.length);
  });
});

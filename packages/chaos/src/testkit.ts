import net from 'node:net';

/** A TCP echo server on loopback for tests and benchmarks; `close` ends it and its sockets. */
export async function echoServer(): Promise<{ port: number; address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Exchange {
  /** What came back, as text. */
  data: string;
  /** Milliseconds from the first byte sent until the answer was complete. */
  ms: number;
  /** How the connection ended: `end` (FIN), `reset` (ECONNRESET) or `open` (still open at `wantBytes`). */
  ending: 'end' | 'reset' | 'open' | 'error';
}

/**
 * Connects to `port`, sends `text`, and reads until `wantBytes` arrived, the peer closed, or
 * `limitMs` passed (then `ending` is `open`). Bounded: it always settles.
 */
export function exchange(port: number, text: string, wantBytes: number, limitMs = 5000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const parts: Buffer[] = [];
    let got = 0;
    // From before the connect: a toxic's timer starts when the proxy accepts, which can be
    // well before the client sees 'connect' on a loaded machine.
    const start = performance.now();
    let settled = false;
    const finish = (ending: Exchange['ending']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(parts).toString(), ms: performance.now() - start, ending });
    };
    const timer = setTimeout(() => finish('open'), limitMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= wantBytes) finish('open');
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNRESET' ? 'reset' : 'error'));
  });
}

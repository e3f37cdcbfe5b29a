// Request handlers take turns on the event loop, so the loop accepts connections between them.
import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Turns } from './turns.ts';

/** Holds the event loop, as a handler's synchronous store reads do. */
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('Turns', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('starts callers in the order they asked, one per turn of the loop, and the loop accepts a connection between them', async () => {
    const events: string[] = [];
    server = createServer((s) => {
      events.push('accepted');
      s.destroy();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const turns = new Turns();
    const handlers = [1, 2, 3, 4, 5].map(async (n) => {
      await turns.next();
      events.push(`handler ${n}`);
      // The first handler's work makes a client connect; the others hold the loop a while.
      if (n === 1) connect(port, '127.0.0.1').on('error', () => {});
      busy(10);
    });
    expect(turns.depth).toBe(5);
    await Promise.all(handlers);
    await new Promise<void>((r) => (events.includes('accepted') ? r() : server!.once('connection', () => r())));
    expect(events.filter((e) => e.startsWith('handler'))).toEqual(['handler 1', 'handler 2', 'handler 3', 'handler 4', 'handler 5']);
    // Handlers started back to back would have run all five before the loop polled again.
    expect(events.indexOf('accepted')).toBeLessThan(events.indexOf('handler 5'));
    expect(turns.depth).toBe(0);
  });

  it('starts a person’s request before machine agents’ requests that arrived earlier, and every agent’s still in order', async () => {
    const order: string[] = [];
    const turns = new Turns();
    const agents = [1, 2, 3, 4].map(async (n) => {
      await turns.next('agent');
      order.push(`agent ${n}`);
      busy(10);
    });
    // Asks once the first agent holds the loop: three agents are still waiting then.
    const user = (async () => {
      await new Promise<void>((r) => setImmediate(r));
      await turns.next('user');
      order.push('user');
    })();
    await Promise.all([...agents, user]);
    expect(order).toEqual(['agent 1', 'user', 'agent 2', 'agent 3', 'agent 4']);
  });
});

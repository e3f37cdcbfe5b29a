// The keyed work queue: dedup, no key beside itself, backoff on failure while other keys go
// on, a slow key reported and retried.
import { describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../logger.ts';
import { KeyedQueue } from './keyed.ts';

describe('KeyedQueue', () => {
  it('retries a failing key after 20, 40, 80 ms while the other keys are processed, and at once when it is added again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const seen: string[] = [];
      const errors: unknown[] = [];
      let broken = true;
      // Fake time moves by `ms`; then the queue, which starts one key per turn of the (real) event loop, catches up.
      const advance = async (ms: number) => {
        await vi.advanceTimersByTimeAsync(ms);
        for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
      };
      const log: Logger = { ...silentLogger, error: (_m, f) => errors.push(f) };
      const q = new KeyedQueue({
        name: 't', log, backoffMs: { base: 20, max: 1000 },
        process: (key) => {
          seen.push(key);
          if (key === 'bad' && broken) throw new Error('provider down');
        },
      });
      q.add('bad');
      q.add('good');
      await advance(0);
      expect(seen).toEqual(['bad', 'good']);
      const tries = () => seen.filter((k) => k === 'bad').length;
      for (const [delay, n] of [[20, 2], [40, 3], [80, 4]] as const) {
        await advance(delay - 1);
        expect(tries()).toBe(n - 1);
        await advance(1);
        expect(tries()).toBe(n);
      }
      expect(seen.filter((k) => k === 'good')).toHaveLength(1);
      expect(errors[0]).toMatchObject({ worker: 't', key: 'bad', err: 'Error: provider down' });
      // A resync leaves it to its backoff; a change makes it due at once.
      q.add('bad', { resync: true });
      await advance(0);
      expect(tries()).toBe(4);
      broken = false;
      q.add('bad');
      await advance(0);
      expect(tries()).toBe(5);
      expect(q.idle).toBe(true);
      expect(q.failed).toBe(4);
      q.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets the event loop serve I/O between keys whose work is synchronous', async () => {
    // A replica that takes over a dead one's machines has hundreds of keys due at once; if
    // they ran back to back, new connections would wait in the accept queue until all were done.
    const seen: string[] = [];
    const q = new KeyedQueue({
      name: 't', log: silentLogger,
      process: (key) => {
        seen.push(key);
        if (key === 'a') setImmediate(() => seen.push('i/o'));
      },
    });
    for (const k of ['a', 'b', 'c']) q.add(k);
    await vi.waitFor(() => expect(q.processed).toBe(3));
    expect(seen).toEqual(['a', 'i/o', 'b', 'c']);
  });

  it('caps how many keys run at once', async () => {
    let running = 0;
    let peak = 0;
    const q = new KeyedQueue({
      name: 't', log: silentLogger, concurrency: 2,
      process: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((f) => setTimeout(f, 5));
        running--;
      },
    });
    for (let i = 0; i < 6; i++) q.add(String(i));
    await vi.waitFor(() => expect(q.processed).toBe(6));
    expect(peak).toBe(2);
  });

  it('reports a key that outlives its timeout, never runs it beside itself, and retries it after', async () => {
    const warnings: unknown[] = [];
    let release = () => {};
    let calls = 0;
    const q = new KeyedQueue({
      name: 't', timeoutMs: 10, backoffMs: { base: 1, max: 1 },
      log: { ...silentLogger, warn: (_m, f) => warnings.push(f) },
      process: async () => {
        calls++;
        if (calls === 1) await new Promise<void>((f) => (release = f));
      },
    });
    q.add('slow');
    await vi.waitFor(() => expect(warnings).toEqual([expect.objectContaining({ worker: 't', key: 'slow', ms: 10 })]));
    q.add('slow');
    expect(calls).toBe(1);
    release();
    await vi.waitFor(() => expect(q.idle).toBe(true));
    expect(calls).toBe(2);
  });
});

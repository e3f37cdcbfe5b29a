import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { TCP_STAGES, type Item, type Stage } from './stages.ts';
import { parseToxic, type ToxicSpec } from './toxics.ts';

interface Out {
  data: string | null;
  t: number;
}

function harness(body: Record<string, unknown>, random: () => number = () => 0.5) {
  const clock = new FakeClock();
  const out: Out[] = [];
  let discarded = 0;
  let resets = 0;
  const spec: ToxicSpec = parseToxic(body);
  const stage: Stage = TCP_STAGES[spec.type]!(
    spec,
    { clock, random, discard: (n) => (discarded += n), reset: () => resets++ },
    (item: Item) => out.push({ data: item ? item.data.toString() : null, t: clock.now() }),
  );
  const push = (text: string | null) => stage.push(text === null ? null : { data: Buffer.from(text), at: clock.now() });
  return { clock, out, stage, push, discarded: () => discarded, resets: () => resets };
}

describe('latency', () => {
  it('delays each chunk by latency from when it was read, in order, and the close after the data', () => {
    const h = harness({ type: 'latency', attributes: { latency: 100 } });
    h.push('a');
    h.clock.advance(30);
    h.push('b');
    h.push(null);
    h.clock.advance(69);
    expect(h.out).toEqual([]);
    h.clock.advance(1);
    expect(h.out).toEqual([{ data: 'a', t: 100 }]);
    h.clock.advance(30);
    expect(h.out).toEqual([
      { data: 'a', t: 100 },
      { data: 'b', t: 130 },
      { data: null, t: 130 },
    ]);
  });

  it('draws jitter within latency ± jitter', () => {
    const low = harness({ type: 'latency', attributes: { latency: 100, jitter: 20 } }, () => 0);
    low.push('x');
    low.clock.advance(200);
    expect(low.out[0]!.t).toBe(80);
    const high = harness({ type: 'latency', attributes: { latency: 100, jitter: 20 } }, () => 0.9999);
    high.push('x');
    high.clock.advance(200);
    expect(high.out[0]!.t).toBe(119);
  });

  it('with toxicity 0 passes data at once; an update redraws it', () => {
    const h = harness({ type: 'latency', toxicity: 0.5, attributes: { latency: 100 } }, () => 0.7);
    h.push('now');
    expect(h.out).toEqual([{ data: 'now', t: 0 }]);
  });

  it('hands on what it holds when removed', () => {
    const h = harness({ type: 'latency', attributes: { latency: 1000 } });
    h.push('held');
    const held = h.stage.remove();
    expect(held.map((i) => i?.data.toString())).toEqual(['held']);
    expect(h.clock.pending()).toBe(0);
  });
});

describe('bandwidth', () => {
  it('releases data at rate KB/s, in pieces of at most 100 ms worth', () => {
    const h = harness({ type: 'bandwidth', attributes: { rate: 1 } }); // 1000 bytes/s
    h.push('x'.repeat(250));
    h.clock.advance(99);
    expect(h.out).toEqual([]);
    h.clock.advance(1);
    expect(h.out.map((o) => [o.data!.length, o.t])).toEqual([[100, 100]]);
    h.clock.advance(150);
    expect(h.out.map((o) => [o.data!.length, o.t])).toEqual([
      [100, 100],
      [100, 200],
      [50, 250],
    ]);
  });

  it('rate 0 means no limit', () => {
    const h = harness({ type: 'bandwidth', attributes: { rate: 0 } });
    h.push('abc');
    expect(h.out).toEqual([{ data: 'abc', t: 0 }]);
  });
});

describe('slow_close', () => {
  it('passes data at once and holds the close for delay ms', () => {
    const h = harness({ type: 'slow_close', attributes: { delay: 500 } });
    h.push('data');
    h.push(null);
    h.clock.advance(499);
    expect(h.out).toEqual([{ data: 'data', t: 0 }]);
    h.clock.advance(1);
    expect(h.out.at(-1)).toEqual({ data: null, t: 500 });
  });
});

describe('timeout', () => {
  it('swallows data and closes after timeout ms', () => {
    const h = harness({ type: 'timeout', attributes: { timeout: 300 } });
    h.push('lost');
    h.clock.advance(299);
    expect(h.out).toEqual([]);
    expect(h.discarded()).toBe(4);
    h.clock.advance(1);
    expect(h.out).toEqual([{ data: null, t: 300 }]);
  });

  it('timeout 0 never closes, but removing it closes the connection', () => {
    const h = harness({ type: 'timeout', attributes: { timeout: 0 } });
    h.push('lost');
    h.clock.advance(60_000);
    expect(h.out).toEqual([]);
    expect(h.stage.remove()).toEqual([null]);
  });
});

describe('reset_peer', () => {
  it('resets the connection timeout ms after the first data', () => {
    const h = harness({ type: 'reset_peer', attributes: { timeout: 200 } });
    h.clock.advance(1000);
    expect(h.resets()).toBe(0);
    h.push('x');
    h.clock.advance(199);
    expect(h.resets()).toBe(0);
    h.clock.advance(1);
    expect(h.resets()).toBe(1);
    expect(h.out).toEqual([]);
  });
});

describe('slicer', () => {
  it('cuts a chunk into slices of average_size, delay µs apart, losing nothing', () => {
    const h = harness({ type: 'slicer', attributes: { average_size: 10, size_variation: 0, delay: 2000 } });
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD'; // 40 bytes
    h.push(text);
    h.clock.advance(100);
    expect(h.out.map((o) => o.data).join('')).toBe(text);
    expect(h.out.map((o) => o.data!.length)).toEqual([10, 10, 10, 10]);
    expect(h.out.map((o) => o.t)).toEqual([0, 2, 4, 6]);
  });

  it('keeps slices within average ± variation', () => {
    const h = harness({ type: 'slicer', attributes: { average_size: 8, size_variation: 3 } }, Math.random);
    h.push('z'.repeat(1000));
    h.clock.advance(10);
    const sizes = h.out.map((o) => o.data!.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(8 + 3);
  });
});

describe('limit_data', () => {
  it('lets bytes through in total, then closes', () => {
    const h = harness({ type: 'limit_data', attributes: { bytes: 5 } });
    h.push('abc');
    h.push('defg');
    h.push('hij');
    expect(h.out).toEqual([
      { data: 'abc', t: 0 },
      { data: 'de', t: 0 },
      { data: null, t: 0 },
    ]);
    expect(h.discarded()).toBe(5);
  });

  it('keeps its count across an update', () => {
    const h = harness({ type: 'limit_data', attributes: { bytes: 5 } });
    h.push('abcd');
    h.stage.update(parseToxic({ type: 'limit_data', attributes: { bytes: 6 } }));
    h.push('efgh');
    expect(h.out.map((o) => o.data)).toEqual(['abcd', 'ef', null]);
  });
});

describe('parseToxic', () => {
  it('defaults to downstream, toxicity 1 and the name <type>_<stream>', () => {
    expect(parseToxic({ type: 'latency', attributes: { latency: 5 } })).toEqual({
      attributes: { latency: 5, jitter: 0 },
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
    });
  });

  it.each([
    [{ type: 'nope' }, 'invalid toxic type', 400],
    [{ type: 'latency', stream: 'sideways' }, 'stream was invalid, can be either upstream or downstream', 400],
    [{ type: 'latency', attributes: { latancy: 5 } }, 'bad request body: unknown attribute "latancy" for latency (latency, jitter)', 400],
    [{ type: 'latency', attributes: { latency: -1 } }, 'bad request body: attribute latency must be a whole number >= 0', 400],
    [{ type: 'latency', toxicity: 1.5 }, 'bad request body: toxicity must be a number between 0 and 1', 400],
    [{ type: 'http_error', attributes: { rate: 2 } }, 'bad request body: attribute rate must be a fraction between 0 and 1', 400],
  ])('refuses %j', (body, message, status) => {
    expect(() => parseToxic(body)).toThrow(expect.objectContaining({ message, status }) as Error);
  });
});

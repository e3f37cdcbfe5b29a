import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MachineLock } from './lock.ts';

describe('MachineLock', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  /** A hook that runs until `finish` is called. */
  function hook(lock: MachineLock) {
    let finish!: () => void;
    const done = lock.run(() => new Promise<void>((r) => (finish = r)));
    return { done, finish: () => finish() };
  }

  it('runs hooks one at a time, in order', async () => {
    const lock = new MachineLock();
    const order: string[] = [];
    const a = hook(lock);
    const b = lock.run(async () => void order.push('b'));
    await vi.advanceTimersByTimeAsync(10);
    expect(order).toEqual([]);
    order.push('a');
    a.finish();
    await b;
    expect(order).toEqual(['a', 'b']);
  });

  it('is quiet only once no hook has run or waited for the quiet spell', async () => {
    const lock = new MachineLock();
    const first = hook(lock);
    let quiet = false;
    void lock.quiet(2000, 60_000).then(() => (quiet = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(quiet).toBe(false); // a hook is running
    const second = hook(lock); // waits behind the first
    first.finish();
    await vi.advanceTimersByTimeAsync(5000);
    expect(quiet).toBe(false); // the second runs now
    second.finish();
    await second.done;
    await vi.advanceTimersByTimeAsync(1900);
    expect(quiet).toBe(false);
    await lock.run(async () => {}); // a short hook restarts the spell
    await vi.advanceTimersByTimeAsync(1900);
    expect(quiet).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(quiet).toBe(true);
  });

  it('gives up waiting after the longest deferral', async () => {
    const lock = new MachineLock();
    const busy = hook(lock);
    let quiet = false;
    void lock.quiet(2000, 10_000).then(() => (quiet = true));
    await vi.advanceTimersByTimeAsync(9_900);
    expect(quiet).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(quiet).toBe(true);
    busy.finish();
    await busy.done;
  });

  it('is quiet at once on a machine that ran nothing for the spell', async () => {
    const lock = new MachineLock();
    await vi.advanceTimersByTimeAsync(2000);
    let quiet = false;
    void lock.quiet(2000, 60_000).then(() => (quiet = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(quiet).toBe(true);
  });
});

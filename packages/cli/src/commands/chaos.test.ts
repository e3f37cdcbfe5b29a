import { describe, expect, it } from 'vitest';
import { describeFaults } from '@sigil/api';
import { faultsFromFlags } from './chaos.ts';

describe('sigil chaos add flags', () => {
  it('turns durations and shares into the faults body', () => {
    expect(faultsFromFlags({ latency: '2s', jitter: '50ms', toxicity: '0.3' })).toEqual({ latencyMs: 2000, jitterMs: 50, toxicity: 0.3 });
    expect(faultsFromFlags({ httpError: '503', rate: '0.2' })).toEqual({ httpError: { status: 503, rate: 0.2 } });
    expect(faultsFromFlags({ down: true })).toEqual({ down: true });
    expect(describeFaults({ latencyMs: 200, jitterMs: 50, httpError: { status: 503, rate: 0.2 }, toxicity: 0.5 })).toBe('latency 200ms ±50ms, http 503 for 20% of requests, toxicity 0.5');
  });

  it.each([
    [{}, /no fault given/],
    [{ toxicity: '0.5' }, /no fault given/],
    [{ latency: 'soon' }, /invalid duration/],
    [{ latency: '1s', toxicity: '1.5' }, /--toxicity 1.5 is outside 0..1/],
    [{ httpError: '5000' }, /not an HTTP status/],
    [{ rate: '0.2' }, /--rate needs --http-error/],
  ])('refuses %j with a hint', (flags, message) => {
    expect(() => faultsFromFlags(flags)).toThrow(message);
    try {
      faultsFromFlags(flags);
    } catch (e) {
      expect((e as { hint?: string }).hint).toBeTruthy();
    }
  });
});

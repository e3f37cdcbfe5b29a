import { describe, expect, it } from 'vitest';
import { parseDrill, runCheck, summarize } from './chaos-drill.ts';

describe('sigil chaos drill', () => {
  it('reads a drill file with its defaults', () => {
    const faults = parseDrill('faults:\n  - name: slow db\n    relation: [wordpress:db, mariadb]\n    latency: 2s\n    duration: 10s\n    check: curl -sf http://x/\n  - relation: [a, b]\n    down: true\n    check: "true"\n');
    expect(faults).toEqual([
      { name: 'slow db', relation: ['wordpress:db', 'mariadb'], flags: { latency: '2s' }, durationMs: 10_000, intervalMs: 500, check: 'curl -sf http://x/' },
      { name: 'a b', relation: ['a', 'b'], flags: { down: true }, durationMs: 30_000, intervalMs: 500, check: 'true' },
    ]);
  });

  it.each([
    ['faults: []', /no `faults:` list/],
    ['faults:\n  - relation: [a]\n    check: x', /fault 1: relation must be/],
    ['faults:\n  - relation: [a, b]', /fault 1: no check command/],
    ['faults:\n  - relation: [a, b]\n    check: x\n    latancy: 1s', /fault 1: unknown key "latancy"/],
    ['faults:\n  - relation: [a, b]\n    check: x\n    duration: 2h', /duration must be between 1s and 1h/],
  ])('refuses %j with a hint', (text, message) => {
    expect(() => parseDrill(text)).toThrow(message);
  });

  it('reports count, errors and p50/p99', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({ ms: i + 1, ok: i % 10 !== 0 }));
    expect(summarize('f', samples)).toEqual({ name: 'f', requests: 100, errors: 10, p50Ms: 50, p99Ms: 99 });
    expect(summarize('none', [])).toEqual({ name: 'none', requests: 0, errors: 0, p50Ms: 0, p99Ms: 0 });
  });

  it('runs a check through the shell and reports its outcome', async () => {
    expect((await runCheck('exit 0')).ok).toBe(true);
    expect((await runCheck('exit 3')).ok).toBe(false);
  });
});

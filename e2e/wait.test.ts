import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, hooks, ok, sigil, status, unit, workload } from './harness.ts';

describe('sigil wait', () => {
  it('returns once every unit has settled, with the relation data delivered', async () => {
    const m = await freshModel('wait');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=w']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '-n', '3']);
    await ok(['integrate', 'source', 'sink', '-m', m]);
    const r = await sigil(['wait', '-m', m, '--timeout', '30s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/settled in/);
    // Settled means done: no hook left to run, every sink has the token from both bags.
    const s = await status(m);
    for (const u of ['sink/0', 'sink/1', 'sink/2']) {
      expect(workload(s, u)).toBe('active token=w app-token=w');
      expect(unit(s, u)?.['juju-status'].current).toBe('idle');
    }
    const before = (await hooks(m, 'sink/0')).length;
    // Not a synchronisation: an observation window in which a hook left over would show up.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await hooks(m, 'sink/0')).length).toBe(before);
    // A config change: wait covers the config-changed it causes.
    await ok(['config', 'source', 'token=w2', '-m', m]);
    await ok(['wait', '-m', m, '--timeout', '60s']);
    expect(workload(await status(m), 'sink/2')).toBe('active token=w2 app-token=w2');
  }, 180_000); // two waits (30 s and 60 s), each outwaited a little by the harness

  it('exits non-zero naming the units in error, with the hook output', async () => {
    const m = await freshModel('waiterr');
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '--config', 'fail-hook=install']);
    const r = await sigil(['wait', '-m', m, '--timeout', '60s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/units in error:\n\s+sink\/0: hook failed: "install"/);
    expect(r.stderr).toMatch(/sink: failing install as configured/);
    expect(r.stderr).toMatch(/hint: .*sigil resolve sink\/0/);
  }, 120_000);

  it('times out naming what is still busy', async () => {
    const m = await freshModel('waitslow');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'sleep=20']);
    const r = await sigil(['wait', '-m', m, '--timeout', '2s']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/timed out after 2s/);
    expect(r.stderr).toMatch(/source\/0: /);
    await ok(['remove-application', 'source', '-m', m, '--yes']);
  });
});

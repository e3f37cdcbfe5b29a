import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, hookLines, hooks, ok, poll, sigil, status, unit, until, workload } from './harness.ts';
import { testDir } from '../tests/temp.ts';

/** How many times a unit's hook has failed so far, from the agent's reports in the model log. */
async function failures(m: string, u: string, hook: string): Promise<number> {
  const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'ERROR', '-i', u]);
  return log.split('\n').filter((l) => l.includes(`hook "${hook}" failed`)).length;
}

describe('lifecycle', () => {
  it('scales, moves leadership off a removed leader, and departs cleanly', async () => {
    const m = await freshModel('life');
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '-n', '2']);
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=t1']);
    await ok(['integrate', 'sink', 'source', '-m', m]);
    await until(m, 'both sinks active', (s) => ['sink/0', 'sink/1'].every((u) => workload(s, u).startsWith('active token=t1')));
    await ok(['add-unit', 'sink', '-n', '1', '-m', m]);
    await until(m, 'sink/2 active', (s) => workload(s, 'sink/2').startsWith('active token=t1'));
    expect((await hooks(m, 'sink/0'))).toContain('cluster-relation-joined');
    expect(unit(await status(m), 'sink/0')?.leader).toBe(true);

    await ok(['remove-unit', 'sink/0', '-m', m, '--yes']);
    const s = await until(m, 'sink/0 gone and a new leader', (s) => !unit(s, 'sink/0') && unit(s, 'sink/1')?.leader === true);
    expect(Object.keys(s.applications.sink?.units ?? {})).toEqual(['sink/1', 'sink/2']);
    const seq = await hooks(m, 'sink/1');
    expect(seq).toContain('leader-elected');
    const lines = await hookLines(m, 'sink/1');
    expect(lines.some((l) => l.startsWith('cluster-relation-departed remote=sink/0') && l.includes('departing=sink/0'))).toBe(true);
    const src = await hookLines(m, 'source/0');
    expect(src.some((l) => l.startsWith('hooks/output-relation-departed remote=sink/0'))).toBe(true);
  }, 120_000); // three status waits of up to 30 s each

  it('runs departed and broken when a relation is removed', async () => {
    const m = await freshModel('unrel');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=t']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m]);
    await ok(['relate', 'source', 'sink', '-m', m]);
    await until(m, 'sink active', (s) => workload(s, 'sink/0').startsWith('active token=t'));
    await ok(['remove-relation', 'source', 'sink', '-m', m]);
    await until(m, 'sink blocked', (s) => workload(s, 'sink/0') === 'blocked no source');
    const seq = await hooks(m, 'sink/0');
    expect(seq.indexOf('input-relation-broken')).toBeGreaterThan(seq.indexOf('input-relation-departed'));
    await until(m, 'relation gone', (s) => s.applications.sink?.relations?.input === undefined);
  }, 180_000); // two status waits of up to 30 s each, and five CLI calls, on a loaded runner

  it('attaches a subordinate to every principal unit', async () => {
    const m = await freshModel('sub');
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '-n', '2']);
    await ok(['deploy', join(CHARMS, 'logger'), '-m', m]);
    await ok(['integrate', 'logger', 'sink', '-m', m]);
    const s = await until(m, 'two logger units', (s) => ['sink/0', 'sink/1'].every((p) => Object.keys(unit(s, p)?.subordinates ?? {}).length === 1 && Object.values(unit(s, p)!.subordinates!)[0]!['workload-status'].current === 'active'));
    const subs = Object.entries(unit(s, 'sink/0')!.subordinates!);
    expect(subs[0]![1]['workload-status'].message).toBe('attached to sink/0');
    expect(s.applications.logger?.['subordinate-to']).toEqual(['sink']);
    expect(s.applications.logger?.units).toBeUndefined();
    const table = await ok(['status', '-m', m]);
    expect(table).toMatch(/^ {2}logger\/\d+\*?\s+active/m);
  }, 180_000); // one status wait of up to 30 s, and four CLI calls, on a loaded runner

  it('puts a failing hook in error, retries on resolve, and skips with --no-retry', async () => {
    const m = await freshModel('fail');
    // Manual resolve only: Juju's automatic retry (5 s, then backing off) would rerun the
    // hook on its own and race the resolves below (a unit retrying is not in error).
    await ok(['model-config', '-m', m, 'automatically-retry-hooks=false']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '--config', 'fail-hook=install']);
    let s = await until(m, 'install to fail', (s) => unit(s, 'sink/0')?.['workload-status'].current === 'error');
    expect(unit(s, 'sink/0')?.['workload-status'].message).toBe('hook failed: "install"');
    expect(unit(s, 'sink/0')?.['juju-status'].current).toBe('idle');
    expect(s.applications.sink?.['application-status'].current).toBe('error');
    const log = await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'ERROR']);
    expect(log).toMatch(/hook "install" failed with exit code 1; last output:\n\s+sink: failing install as configured/);
    // Still failing: resolve re-runs it and it fails again. The unit shows the old error
    // until the rerun starts, so first wait for the rerun's failure to be reported.
    const failed = await failures(m, 'sink/0', 'install');
    await ok(['resolve', 'sink/0', '-m', m]);
    await poll('install to be run again and fail', async () => ((await failures(m, 'sink/0', 'install')) > failed ? true : undefined));
    s = await until(m, 'install to fail again', (s) => unit(s, 'sink/0')?.['workload-status'].current === 'error');
    await ok(['exec', '-m', m, '--unit', 'sink/0', '--', 'touch', '../recovered']);
    await ok(['resolve', 'sink/0', '-m', m]);
    await until(m, 'sink/0 to start', (s) => workload(s, 'sink/0') === 'blocked waiting for a source');
    const seq = await hooks(m, 'sink/0');
    expect(seq.filter((h) => h === 'install').length).toBeGreaterThanOrEqual(3);

    await ok(['exec', '-m', m, '--unit', 'sink/0', '--', 'rm', '../recovered']);
    await ok(['config', 'sink', 'fail-hook=config-changed', '-m', m]);
    await until(m, 'config-changed to fail', (s) => unit(s, 'sink/0')?.['workload-status'].message === 'hook failed: "config-changed"');
    await ok(['resolve', 'sink/0', '--no-retry', '-m', m]);
    await until(m, 'sink/0 idle again', (s) => unit(s, 'sink/0')?.['juju-status'].current === 'idle' && unit(s, 'sink/0')?.['workload-status'].current !== 'error');
    const bad = await sigil(['resolve', 'sink/0', '-m', m]);
    expect(bad.stderr).toMatch(/not in an error state/);

    // Removal never gets stuck behind a failed hook.
    await ok(['deploy', join(CHARMS, 'sink'), 'broken', '-m', m, '--config', 'fail-hook=install']);
    await until(m, 'broken/0 in error', (s) => unit(s, 'broken/0')?.['workload-status'].current === 'error');
    await ok(['remove-application', 'broken', '-m', m, '--yes']);
    await until(m, 'broken gone', (s) => s.applications.broken === undefined);
  }, 300_000); // nine status waits of up to 30 s each
});

describe('refresh', () => {
  it('upgrades the charm: upgrade-charm then config-changed, no relation hooks', async () => {
    const { cpSync, writeFileSync } = await import('node:fs');
    const m = await freshModel('refresh');
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=r1']);
    await until(m, 'source active', (s) => workload(s, 'source/0') === 'active token=r1');
    const dir = join(testDir('sigil-charm-'), 'source');
    cpSync(join(CHARMS, 'source'), dir, { recursive: true });
    writeFileSync(join(dir, 'version'), 'src-2.0\n');
    await ok(['refresh', 'source', '--path', dir, '-m', m]);
    const s = await until(m, 'the new revision to run', (s) => s.applications.source?.['charm-rev'] === 1 && unit(s, 'source/0')?.['juju-status'].current === 'idle' && s.applications.source?.version === 'src-2.0');
    expect(s.applications.source?.['charm-version']).toBe('src-2.0');
    const seq = await hooks(m, 'source/0');
    const at = seq.lastIndexOf('upgrade-charm');
    expect(at).toBeGreaterThan(seq.indexOf('start'));
    expect(seq[at + 1]).toBe('config-changed');
    expect((await ok(['config', 'source', 'token', '-m', m])).trim()).toBe('r1');
    const other = await sigil(['refresh', 'source', '--path', join(CHARMS, 'sink'), '-m', m]);
    expect(other.stderr).toMatch(/cannot refresh "source" from charm "source" to "sink"/);
  }, 180_000); // status waits and CLI calls on a loaded runner
});

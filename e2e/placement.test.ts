import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CHARMS, freshModel, ok, sigil, status, unit, until, workload } from './harness.ts';

describe('placement and machines', () => {
  it('co-locates units with --to and serialises their hooks under one machine lock', async () => {
    const m = await freshModel('place');
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m]);
    const s0 = await until(m, 'sink/0 on a machine', (s) => unit(s, 'sink/0')?.machine !== undefined && workload(s, 'sink/0') === 'blocked waiting for a source');
    const machine = unit(s0, 'sink/0')!.machine!;
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--to', machine, '--config', 'token=co']);
    await ok(['integrate', 'source', 'sink', '-m', m]);
    const s = await until(m, 'both active on one machine', (s) => workload(s, 'source/0') === 'active token=co' && workload(s, 'sink/0').startsWith('active token=co'));
    expect(unit(s, 'source/0')?.machine).toBe(machine);
    expect(Object.keys(s.machines)).toEqual([machine]);
    // One machine lock: in the agent's log, every hook that starts finishes before the next one starts.
    const log = (await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'DEBUG', '--include', 'source', '--include', 'sink']))
      .split('\n').filter((l) => l.includes('juju.worker.uniter.operation'));
    expect(log.some((l) => l.startsWith('unit-source-0'))).toBe(true);
    expect(log.some((l) => l.startsWith('unit-sink-0'))).toBe(true);
    let running: string | undefined;
    for (const line of log) {
      const entity = line.split(':')[0]!;
      if (/ running "/.test(line)) {
        expect(running, `a hook started on ${entity} while ${running} held the lock`).toBeUndefined();
        running = entity;
      } else if (/ ran "/.test(line)) {
        expect(running).toBe(entity);
        running = undefined;
      }
    }
  });

  it('adds and removes machines, refusing to remove one with units unless forced', async () => {
    const m = await freshModel('mach');
    await ok(['add-machine', '-m', m, '-n', '2']);
    await until(m, 'two machines started', (s) => Object.values(s.machines).filter((x) => x['juju-status'].current === 'started').length === 2);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m, '--to', '1']);
    await until(m, 'sink/0 on machine 1', (s) => unit(s, 'sink/0')?.machine === '1' && workload(s, 'sink/0').startsWith('blocked'));
    const refused = await sigil(['remove-machine', '1', '-m', m, '--yes']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/machine 1 has units: sink\/0/);
    expect(refused.stderr).toMatch(/hint: .*--force/);
    await ok(['remove-machine', '0', '-m', m, '--yes']);
    await until(m, 'machine 0 gone', (s) => s.machines['0'] === undefined);
    await ok(['remove-machine', '1', '-m', m, '--yes', '--force']);
    const s = await until(m, 'machine 1 and its unit gone', (s) => s.machines['1'] === undefined && unit(s, 'sink/0') === undefined);
    expect(Object.keys((await status(m)).machines)).toEqual([]);
    expect(s.applications.sink?.units ?? {}).toEqual({});
  });
});

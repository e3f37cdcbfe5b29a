// Leadership as a lease (issue 14 item 2): a leader whose machine agent goes silent loses the
// role once the lease (60 s) runs out; another unit is elected and runs leader-elected without
// the old one being removed. The silent agent is frozen (SIGSTOP), as a hung or partitioned
// machine is: its process lives, so the local-process provider does not restart it, and it
// answers no ping, so the controller drops its connection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADERSHIP_LEASE_MS } from '@sigil/api';
import { CHARMS, controllerEntry, freshModel, hooks, ok, sigil, status, unit, until } from './harness.ts';

describe('leadership lease', () => {
  let m: string;
  let frozen: number | undefined;

  const leader = (s: Awaited<ReturnType<typeof status>>) => Object.entries(s.applications['sink']?.units ?? {}).find(([, u]) => u.leader === true)?.[0];
  const agentPid = async (unitName: string) => {
    const s = await status(m);
    const [c, name] = m.split(':') as [string, string];
    const machine = unit(s, unitName)!.machine!;
    return Number(readFileSync(join(controllerEntry(c).dir, 'machines', name, machine, 'agent.pid'), 'utf8').trim());
  };

  beforeAll(async () => {
    m = await freshModel('leadership');
    await ok(['deploy', join(CHARMS, 'sink'), '-n', '2', '-m', m]);
    const w = await sigil(['wait', '-m', m, '--timeout', '2m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
  }, 180_000);

  afterAll(() => {
    if (frozen !== undefined) process.kill(-frozen, 'SIGCONT');
  });

  it('moves to a connected unit once the leader\'s agent has been silent for the lease, and the old leader is told when it is back', async () => {
    const before = await status(m);
    expect(leader(before)).toBe('sink/0');
    expect(await hooks(m, 'sink/1')).not.toContain('leader-elected');
    expect(await hooks(m, 'sink/0')).not.toContain('leader-settings-changed');

    // The agent's whole process group: its hooks too.
    frozen = await agentPid('sink/0');
    process.kill(-frozen, 'SIGSTOP');
    const stoppedAt = Date.now();
    const moved = await until(m, 'sink/1 to lead', (s) => leader(s) === 'sink/1', LEADERSHIP_LEASE_MS + 60_000);
    const after = Date.now() - stoppedAt;
    // Not before the lease ran out (the controller notices a silent agent within 10 s).
    expect(after).toBeGreaterThanOrEqual(LEADERSHIP_LEASE_MS);
    expect(unit(moved, 'sink/0')).toBeDefined();
    expect(moved.machines[unit(moved, 'sink/0')!.machine!]!['juju-status'].current).toBe('down');
    await expect.poll(() => hooks(m, 'sink/1'), { timeout: 60_000, interval: 500 }).toContain('leader-elected');
    console.log(`leadership moved ${Math.round(after / 1000)} s after the leader's agent froze (lease ${LEADERSHIP_LEASE_MS / 1000} s)`);

    // Back: the old leader keeps its unit, does not take the role back, and hears of the new
    // leader (leader-settings-changed), while is-leader tells it the truth.
    process.kill(-frozen, 'SIGCONT');
    frozen = undefined;
    const w = await sigil(['wait', '-m', m, '--timeout', '2m']);
    expect(w.code, w.stderr + w.stdout).toBe(0);
    expect(leader(await status(m))).toBe('sink/1');
    expect(await hooks(m, 'sink/0')).toContain('leader-settings-changed');
    expect((await ok(['exec', '-m', m, '--unit', 'sink/0', '--', 'is-leader'])).trim()).toBe('False');
    expect((await ok(['exec', '-m', m, '--unit', 'sink/1', '--', 'is-leader'])).trim()).toBe('True');
  }, 300_000);
});

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARMS, hooks, ok, sigil, status, unit, until, workload } from './harness.ts';

// Its own controller: these tests kill it, and the other files share theirs.
const C = 'e2e-restart';
const M = `${C}:default`;
const home = () => join(process.env.SIGIL_HOME!, 'controllers', C);
const pid = (path: string) => Number(readFileSync(path, 'utf8').trim());
const alive = (p: number) => {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
};

describe('restarts', () => {
  beforeAll(async () => {
    await ok(['bootstrap', '--provider', 'local-process', C, '--timeout', '90s']);
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '--config', 'token=one']);
    await until(M, 'source active', (s) => workload(s, 'source/0') === 'active token=one');
  }, 180_000); // bootstrap (90 s), deploy, a 30 s wait
  afterAll(async () => {
    await sigil(['destroy-controller', C, '--yes', '--timeout', '2m']);
  }, 180_000);

  it('loses no acknowledged change when the controller is SIGKILLed, and agents reconnect', async () => {
    const before = pid(join(home(), 'controller.pid'));
    await ok(['config', 'source', 'token=two', '-m', M]);
    process.kill(before, 'SIGKILL');
    // The supervisor brings it back; the change is there and the agent acts on it.
    const s = await until(M, 'the new token after the restart', (s) => workload(s, 'source/0') === 'active token=two', 30_000);
    expect(pid(join(home(), 'controller.pid'))).not.toBe(before);
    expect((await ok(['config', 'source', 'token', '-m', M])).trim()).toBe('two');
    expect(s.machines['0']?.['juju-status'].current).toBe('started');
    // Writes keep working after the restart.
    await ok(['add-unit', 'source', '-m', M]);
    await until(M, 'source/1 active', (s) => workload(s, 'source/1') === 'active token=two');
  }, 120_000); // two 30 s waits

  it('resumes correctly when an agent is killed mid-hook: the hook counts as failed and is retried', async () => {
    await ok(['config', 'source', 'sleep=3', 'token=three', '-m', M]);
    await until(M, 'config-changed running', (s) => (unit(s, 'source/0')?.['juju-status'].message ?? '').includes('config-changed'), 15_000);
    const agentPid = pid(join(home(), 'machines', 'default', '0', 'agent.pid'));
    process.kill(agentPid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(agentPid); i++) await new Promise((r) => setTimeout(r, 100));
    await until(M, 'source/0 to converge after the agent restart', (s) => workload(s, 'source/0') === 'active token=three' && unit(s, 'source/0')?.['juju-status'].current === 'idle', 45_000);
    expect(pid(join(home(), 'machines', 'default', '0', 'agent.pid'))).not.toBe(agentPid);
    const seq = await hooks(M, 'source/0');
    // The interrupted config-changed ran again after the restart.
    expect(seq.filter((h) => h === 'config-changed').length).toBeGreaterThanOrEqual(4);
    await ok(['config', 'source', 'sleep=0', '-m', M]);
    const st = await status(M);
    expect(st.applications.source?.['application-status'].current).toBe('active');
  }, 120_000); // 15 s and 45 s waits

  it('shows a machine whose agent stops answering as down and its units as lost within 10 s, then recovers', async () => {
    const agentPid = pid(join(home(), 'machines', 'default', '0', 'agent.pid'));
    process.kill(agentPid, 'SIGSTOP');
    try {
      const t = Date.now();
      const s = await until(M, 'source/0 lost', (s) => unit(s, 'source/0')?.['juju-status'].current === 'lost', 20_000);
      expect(Date.now() - t).toBeLessThan(14_000);
      expect(s.machines['0']?.['juju-status'].current).toBe('down');
      expect(unit(s, 'source/0')?.['workload-status'].current).toBe('unknown');
    } finally {
      process.kill(agentPid, 'SIGCONT');
    }
    await until(M, 'source/0 back', (s) => unit(s, 'source/0')?.['juju-status'].current === 'idle' && s.machines['0']?.['juju-status'].current === 'started', 20_000);
  });
});

// `sigil migrate-agents` (issue 18 item 1) on local-process: a controller is backed up, lost,
// and restored from the backup in another SIGIL_HOME at a NEW address; the machines' agents
// still dial the old one until migrate-agents re-points them (config rewritten, agent
// restarted) and waits until each has reconnected. Bad input changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARMS, ok, poll, sigil, status } from './harness.ts';
import { alive, freePort } from '../tests/procs.ts';
import { EXIT } from '@sigil/api';

const C = 'mig';
const M = `${C}:default`;

describe('migrate-agents: re-point machine agents to a controller restored at a new address', () => {
  const homeA = process.env.SIGIL_HOME!;
  const homeB = mkdtempSync(join(tmpdir(), 'sigil-mig-home-'));
  const scratch = mkdtempSync(join(tmpdir(), 'sigil-mig-'));
  const machineDir = (id: string) => join(homeA, 'controllers', C, 'machines', 'default', id);
  const agentUrl = (id: string) => (JSON.parse(readFileSync(join(machineDir(id), 'agent.json'), 'utf8')) as { controllerUrl: string }).controllerUrl;
  let oldUrl = '';

  beforeAll(async () => {
    await ok(['bootstrap', '--provider', 'local-process', C]);
    await ok(['deploy', join(CHARMS, 'datastore'), '-m', M]);
    await ok(['add-machine', '-m', M]);
    await ok(['wait', '-m', M, '--timeout', '2m']);
    await ok(['run', '-m', M, 'datastore/0', 'put', 'value=before-move']);
    oldUrl = agentUrl('0');
  }, 180_000);

  afterAll(async () => {
    process.env.SIGIL_HOME = homeB;
    await sigil(['destroy-controller', C, '--yes']);
    process.env.SIGIL_HOME = homeA;
    await sigil(['destroy-controller', C, '--yes']);
    // An agent a controller lost track of (the old one is gone, the restored one found the
    // machines at their old paths) is still this test's process: stop it.
    for (const id of ['0', '1', '2']) {
      const pid = existsSync(join(machineDir(id), 'agent.pid')) ? Number(readFileSync(join(machineDir(id), 'agent.pid'), 'utf8').trim()) : 0;
      if (pid > 0 && alive(pid)) process.kill(-pid, 'SIGKILL');
    }
    rmSync(homeB, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it('refuses a bad or foreign address with a hint and changes nothing', async () => {
    const bad = await sigil(['migrate-agents', '-c', C, '--to', 'no such host!']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERROR "no such host!" is not a controller address\nhint: give it as HOST[:PORT]');
    const port = await freePort();
    const away = await sigil(['migrate-agents', '-c', C, '--to', `127.0.0.1:${port}`]);
    expect(away.code).toBe(EXIT.unavailable);
    expect(away.stderr).toMatch(new RegExp(`ERROR https://127\\.0\\.0\\.1:${port} does not answer as controller "mig": .*\\nhint: .*nothing was changed`));
    expect(agentUrl('0')).toBe(oldUrl);
    expect(agentUrl('1')).toBe(oldUrl);
    // An archive that is not there is named, before anything else is looked at.
    const badRestore = await sigil(['restore-backup', join(scratch, 'none.tar.gz'), '--address', 'a b']);
    expect(badRestore.code).toBe(EXIT.notFound);
    expect(badRestore.stderr).toContain('none.tar.gz');
  });

  it('restore-backup --address, then migrate-agents: every agent reconnects at the new address and the model works', async () => {
    const file = join(scratch, 'ctl.tar.gz');
    await ok(['create-backup', '-c', C, '--filename', file]);
    // The old controller is lost; its machines' agents keep running, dialling its address.
    const dirA = join(homeA, 'controllers', C);
    const sup = Number(readFileSync(join(dirA, 'supervisor.pid'), 'utf8'));
    const ctl = Number(readFileSync(join(dirA, 'controller.pid'), 'utf8'));
    process.kill(sup, 'SIGTERM');
    await poll('the old controller stops', async () => (alive(sup) || alive(ctl) ? undefined : true), 20_000);

    const port = await freePort();
    process.env.SIGIL_HOME = homeB;
    try {
      const badAddr = await sigil(['restore-backup', file, '--address', 'not an address']);
      expect(badAddr.code).toBe(1);
      expect(badAddr.stderr).toContain('ERROR "not an address" is not an address to listen at\nhint: give it as HOST[:PORT]');
      expect((await sigil(['controllers'])).stdout).not.toContain(C);

      const restored = (await ok(['restore-backup', file, '--address', `127.0.0.1:${port}`])).trim();
      expect(restored).toBe(`Controller "${C}" restored and listening on https://127.0.0.1:${port}\nMachines' agents still dial ${oldUrl.replace('https://', '')}: run \`sigil migrate-agents\` to re-point them.`);
      // Nobody answers at the old address: the agents are away.
      expect(agentUrl('0')).toBe(oldUrl);

      const out = await ok(['migrate-agents', '--timeout', '100s'], { timeoutMs: 150_000 });
      expect(out).toMatch(new RegExp(`^Agents re-pointed to https://127\\.0\\.0\\.1:${port}:\\n  default/0  \\(through the provider\\)  reconnected after \\S+\\n  default/1  \\(through the provider\\)  reconnected after \\S+\\n$`));
      expect(agentUrl('0')).toBe(`https://127.0.0.1:${port}`);
      expect(agentUrl('1')).toBe(`https://127.0.0.1:${port}`);
      // The restored controller drives them: an action reads the data kept before the move,
      // and a new unit's machine is given the new address.
      expect(JSON.parse(await ok(['run', '-m', M, 'datastore/0', 'get', '--format', 'json'])) as { value: string }).toMatchObject({ value: 'before-move' });
      await ok(['add-unit', '-m', M, 'datastore']);
      await ok(['wait', '-m', M, '--timeout', '2m']);
      const st = await status(M);
      for (const id of ['0', '1', '2']) expect(st.machines[id]?.['juju-status'].current).toBe('started');
      expect(agentUrl('2')).toBe(`https://127.0.0.1:${port}`);
      // Safe to repeat: each agent restarts and reconnects again.
      // The CLI's own deadline comes first, so a failure names the agent that did not come back.
      expect(await ok(['migrate-agents', '--to', `localhost:${port}`, '--timeout', '100s'], { timeoutMs: 150_000 })).toMatch(/default\/2 {2}\(through the provider\) {2}reconnected after/);
      expect(agentUrl('1')).toBe(`https://localhost:${port}`);
    } finally {
      process.env.SIGIL_HOME = homeA;
    }
  }, 480_000);
});

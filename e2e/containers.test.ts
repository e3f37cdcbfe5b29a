import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusMachine } from '@sigil/api';
import { canRun } from '../tests/ci.ts';
import { CHARMS, canRunContainers, ok, poll, sigil, status, until } from './harness.ts';
import { StandInHosts, type StandInHost } from './ssh-hosts.ts';

/**
 * Containers on machines (issue 13): `add-machine lxc:N` and `deploy --to lxc:N` on
 * enlisted hosts. The hosts are stand-ins this file makes (e2e/ssh-hosts.ts); host A has
 * LXC and the base image (what a refused container's hint asks of an operator) and a real
 * filesystem for its containers, host B has neither. Its own controller, named here.
 */
const CONTROLLER = `e2e-containers-${process.pid}`;
const MODEL = `${CONTROLLER}:default`;

/** What Sigil may leave on a host after remove-machine: nothing (A's /var/lib/sigil is the harness's own mount, left empty). */
const LEFTOVERS = 'ls -d /opt/sigil /etc/sigil /etc/systemd/system/sigil-agent.service 2>/dev/null; ls -A /var/lib/sigil 2>/dev/null; ip -o link show sigilbr0 2>/dev/null; pgrep -f "[a]gent[.]mjs|[l]xc-start"; true';

describe.runIf(canRun(canRunContainers(), 'root with LXC (stand-in ssh hosts)'))('containers on machines (lxc:N)', () => {
  let hosts: StandInHosts;
  let a: StandInHost;
  let b: StandInHost;
  let ma = '';
  let mb = '';

  beforeAll(async () => {
    hosts = await StandInHosts.create(process.env.SIGIL_IMAGES!);
    [a, b] = await Promise.all([hosts.add(`ct-a-${process.pid}`, { containers: true }), hosts.add(`ct-b-${process.pid}`)]);
    const known = join(hosts.dir, 'known_hosts');
    await writeFile(known, (await hosts.knownHostsLine(a)) + (await hosts.knownHostsLine(b)));
    await ok(['bootstrap', '--provider', 'local-process', '--api-address', hosts.gateway, CONTROLLER]);
    for (const h of [a, b]) await ok(['add-machine', `ssh:root@${h.address}`, '-m', MODEL, '--private-key', hosts.key, '--known-hosts', known]);
    const st = await status(MODEL);
    const byAddr = new Map(Object.entries(st.machines).map(([id, m]) => [m['dns-name'], id]));
    ma = byAddr.get(a.address)!;
    mb = byAddr.get(b.address)!;
  }, 240_000);

  afterAll(async () => {
    await sigil(['destroy-controller', CONTROLLER, '--yes']).catch(() => undefined);
    await hosts?.destroy();
  }, 120_000);

  it('refuses a placement on a machine that does not exist, kvm, and a container inside a container, with hints', async () => {
    const r1 = await sigil(['add-machine', 'lxc:42', '-m', MODEL]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('machine "42" not found for placement lxc:42');
    const r2 = await sigil(['add-machine', `kvm:${ma}`, '-m', MODEL]);
    expect(r2.stderr).toContain('kvm containers are not supported');
    expect(r2.stderr).toContain('hint:');
    const r3 = await sigil(['add-machine', `lxd:${ma}/lxc/0`, '-m', MODEL]);
    expect(r3.stderr).toContain('containers inside containers are not supported');
    expect(Object.keys((await status(MODEL)).machines).sort()).toEqual([ma, mb].sort());
  });

  it('a container on a host without LXC fails with the reason and a hint, under its host in status', async () => {
    await ok(['add-machine', `lxd:${mb}`, '-m', MODEL]);
    const st = await until(MODEL, 'the container on B refused', (s) => s.machines[mb]?.containers?.[`${mb}/lxc/0`]?.['machine-status'].current === 'provisioning error', 60_000);
    expect(st.machines[mb]!.containers![`${mb}/lxc/0`]!['machine-status'].message).toMatch(/has no LXC \(lxc-start not found\).*apt-get install/);
    await ok(['remove-machine', `${mb}/lxc/0`, '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'the refused container gone', (s) => s.machines[mb]?.containers === undefined, 30_000);
  });

  it('deploy --to lxc:N runs a unit in a new container on the enlisted host, which answers there', async () => {
    await ok(['deploy', join(CHARMS, 'http-backend'), 'web', '-m', MODEL, '--to', `lxc:${ma}`]);
    const id = `${ma}/lxc/0`;
    const st = await until(MODEL, 'web/0 active in its container', (s) => s.applications.web?.units?.['web/0']?.['workload-status'].current === 'active', 180_000);
    expect(st.applications.web!.units!['web/0']!.machine).toBe(id);
    expect(Object.keys(st.machines).sort()).toEqual([ma, mb].sort());
    const c = statusMachine(st, id)!;
    expect(st.machines[ma]!.containers![id]).toBe(c);
    expect(c['juju-status'].current).toBe('started');
    expect(c['instance-id']).toBe(`sigil-${ma}-lxc-0`);
    const addr = c['dns-name']!;
    expect(addr).toMatch(/^10\.\d+\.\d+\.\d+$/);
    // Tabular status lists the container right after its host, as Juju does.
    const table = await ok(['status', '-m', MODEL]);
    const rows = table.split('\n').map((l) => l.split(/\s+/)[0]);
    expect(rows.indexOf(id)).toBe(rows.indexOf(ma) + 1);
    // The container has its own address on a bridge of host A: the unit answers there.
    const body = await poll('web/0 answering in its container', async () => {
      const r = await hosts.exec(a, `curl -sf --max-time 3 http://${addr}:8080/`);
      return r.code === 0 ? r.stdout : undefined;
    }, 30_000);
    expect(body).toContain('web/0');
    expect((await hosts.exec(a, `lxc-info -P /var/lib/sigil/containers -n sigil-${ma}-lxc-0 -s -H`)).stdout.trim()).toBe('RUNNING');
  });

  it('a host with containers is removed only with --force; a container made for a unit goes with it, one removed is destroyed', async () => {
    await ok(['add-machine', `lxc:${ma}`, '-m', MODEL]);
    await until(MODEL, 'container 1 started', (s) => s.machines[ma]?.containers?.[`${ma}/lxc/1`]?.['juju-status'].current === 'started', 120_000);
    const refused = await sigil(['remove-machine', ma, '-m', MODEL, '--no-prompt']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`machine ${ma} is hosting containers ${ma}/lxc/0, ${ma}/lxc/1`);
    expect(refused.stderr).toMatch(/hint: .*--force/);
    // The container deploy --to made for web/0 goes with its unit, as a new machine would.
    await ok(['remove-application', 'web', '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'web and its container gone', (s) => s.applications.web === undefined && s.machines[ma]?.containers?.[`${ma}/lxc/0`] === undefined, 90_000);
    await ok(['remove-machine', `${ma}/lxc/1`, '-m', MODEL, '--no-prompt']);
    await until(MODEL, 'the containers gone', (s) => s.machines[ma] !== undefined && s.machines[ma]!.containers === undefined, 60_000);
    expect((await hosts.exec(a, 'ls -A /var/lib/sigil/containers | grep sigil-; lxc-ls -P /var/lib/sigil/containers; true')).stdout.trim()).toBe('');
  });

  it('remove-machine --force takes a host\'s containers with it, and leaves both hosts clean', async () => {
    // Numbers are not reused: this is container 2.
    await ok(['add-machine', `lxc:${ma}`, '-m', MODEL]);
    await until(MODEL, 'container 2 started', (s) => s.machines[ma]?.containers?.[`${ma}/lxc/2`]?.['juju-status'].current === 'started', 120_000);
    await ok(['remove-machine', ma, mb, '-m', MODEL, '--no-prompt', '--force']);
    await until(MODEL, 'machines gone', (s) => Object.keys(s.machines).length === 0, 90_000);
    for (const h of [a, b]) {
      const left = await poll(`${h.name} clean`, async () => {
        const r = await hosts.exec(h, LEFTOVERS);
        return r.stdout.trim() === '' ? 'clean' : undefined;
      }, 30_000);
      expect(left).toBe('clean');
    }
  });
});

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:https';
import { replicaFile } from '@sigil/api';
import { CHARMS, canRunContainers, ok, poll, sigil, status, until, workload } from './harness.ts';
import { StandInHosts, type StandInHost } from './ssh-hosts.ts';
import { postgresBin, startCluster, type Cluster } from '../packages/controller/src/store/pg/cluster.ts';
import { canRun } from '../tests/ci.ts';
import { clusterSql } from './pg-cluster.ts';

// A controller replica on another host (`enable-ha --to ssh:HOST`): a stand-in host (an LXC
// system container with systemd and sshd, on a bridge of this test's own) gets the
// controller's bundle, its directory and a systemd unit. It serves the API at once and stands
// by for the model's work while the replica on this host lives. When this host's replica is
// killed (its host lost), the agents move to it, status answers from it, it takes the leases,
// and a machine only this host's provider can make waits with a clear reason until this
// host's replica is back. `enable-ha -n 1` removes it from that host, leaving nothing.
const C = `e2e-away-${process.pid}`;
const M = `${C}:default`;
const runnable = canRun(postgresBin() !== undefined && canRunContainers(), "root with LXC (a stand-in host) and Debian's postgresql");
const LEFTOVERS = 'ls -d /opt/sigil-controller /opt/sigil-controller.new /var/lib/sigil-controller /etc/systemd/system/sigil-controller.service /etc/systemd/system/multi-user.target.wants/sigil-controller.service 2>/dev/null; pgrep -f "[c]ontroller[.]mjs"; true';

let cluster: Cluster;
let hosts: StandInHosts;
let h: StandInHost;
let pwDir = '';
let known = '';
let storeUrl = '';

const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => clusterSql<T>(cluster, 'sigil', text, values);

/** A GET over TLS, trusting only the controller's CA. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** `show-controller` as JSON: the part about replicas, and the store. */
async function showController(): Promise<{ 'controller-replicas': Record<string, { url: string; host: string; status: string }>; details: { store: string } }> {
  return (JSON.parse(await ok(['show-controller', C, '--format', 'json'])) as Record<string, never>)[C]!;
}

const liveLeases = () => sql<{ key: string; holder: string }>('SELECT key, holder FROM leases WHERE expires > (extract(epoch from clock_timestamp()) * 1000)::bigint ORDER BY key');

describe.runIf(runnable)('a controller replica on another host', () => {
  const dir = () => join(process.env.SIGIL_HOME!, 'controllers', C);
  const pid = (file: string) => Number(readFileSync(join(dir(), file), 'utf8'));
  const placeArgs = () => ['--private-key', hosts.key, '--known-hosts', known];

  beforeAll(async () => {
    hosts = await StandInHosts.create(process.env.SIGIL_IMAGES!);
    h = await hosts.add(`away-${process.pid}`);
    known = join(hosts.dir, 'known_hosts');
    await writeFile(known, await hosts.knownHostsLine(h));
    // The store listens where the other host reaches it too (the bridge's address on this host).
    cluster = await startCluster({ durable: true, listen: [hosts.gateway] });
    await clusterSql(cluster, 'postgres', 'CREATE DATABASE sigil');
    pwDir = mkdtempSync(join(tmpdir(), 'sigil-away-pw-'));
    writeFileSync(join(pwDir, 'pw'), cluster.password + '\n', { mode: 0o600 });
    storeUrl = `postgresql://sigil@${hosts.gateway}:${cluster.port}/sigil`;
    await ok(['bootstrap', '--provider', 'local-process', C, '--store', storeUrl, '--store-password-file', join(pwDir, 'pw'), '--timeout', '90s', '--api-address', hosts.gateway]);
    // The host is one of the model's machines already (machine 0): enable-ha --to 0 places the replica beside its agent.
    await ok(['add-machine', `ssh:root@${h.address}`, '-m', M, ...placeArgs()]);
  }, 240_000);
  afterAll(async () => {
    if (process.env.KEEP) return;
    await sigil(['destroy-controller', C, '--yes', '--timeout', '1m']);
    await cluster?.destroy();
    await hosts?.destroy();
    if (pwDir) rmSync(pwDir, { recursive: true, force: true });
  }, 120_000);

  it('refuses a placement that is not a host over ssh, and more hosts than new replicas, changing nothing', async () => {
    const r1 = await sigil(['enable-ha', C, '-n', '2', '--to', `lxc:0`]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('a replica\'s place is a host over ssh');
    expect(r1.stderr).toContain('hint:');
    const r2 = await sigil(['enable-ha', C, '-n', '2', '--to', `ssh:root@${h.address},ssh:root@${hosts.prefix}.250`, ...placeArgs()]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('--to names 2 hosts but -n 2 adds 1 replica');
    expect(r2.stderr).toContain('raise -n to 3');
    const r3 = await sigil(['enable-ha', C, '-n', '2', '--to', '7', '-m', M]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain('--to 7: machine 7 not found in model "default"');
    await ok(['add-machine', '-m', M]);
    const r4 = await sigil(['enable-ha', C, '-n', '2', '--to', '1', '-m', M]);
    expect(r4.code).not.toBe(0);
    expect(r4.stderr).toMatch(/--to 1: machine 1 \(instance \S+\) was made by this controller's provider, on this host/);
    await ok(['remove-machine', '1', '-m', M, '--yes']);
    expect((await hosts.exec(h, LEFTOVERS)).stdout.trim()).toBe('');
    expect((await sql('SELECT id FROM controllers')).map((r) => r.id)).toEqual(['r0']);
  });

  it('places a replica on the host over ssh: it serves the API and stands by while this host\'s replica lives', async () => {
    const r = await sigil(['enable-ha', C, '-n', '2', '--to', '0', '-m', M, ...placeArgs()]);
    expect(r.code, r.stderr).toBe(0);
    // Each step is reported as it happens.
    for (const s of ['connect', 'check host', 'install controller', 'start replica', 'joined']) expect(r.stderr).toMatch(new RegExp(`s ${s}: `));
    expect(r.stderr).toContain(`store reachable at ${hosts.gateway}:${cluster.port}`);
    expect(r.stdout).toMatch(new RegExp(`r1\\s+https://${h.address.replace(/\./g, '\\.')}:\\d+\\s+alive\\s+${h.address.replace(/\./g, '\\.')}:22`));
    // It runs under systemd there, from its own directory, which only root may read.
    expect((await hosts.exec(h, 'systemctl is-active sigil-controller.service')).stdout.trim()).toBe('active');
    expect((await hosts.exec(h, 'stat -c %a /var/lib/sigil-controller /var/lib/sigil-controller/store-password /var/lib/sigil-controller/tls/server.key')).stdout.trim().split('\n')).toEqual(['700', '600', '600']);
    // The store's password is in no command line and no unit file there.
    const ps = await hosts.exec(h, 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "; cat /etc/systemd/system/sigil-controller.service');
    expect(ps.stdout).toContain('controller.mjs');
    expect(ps.stdout).not.toContain(cluster.password);
    // Every lease stays with this host's replica.
    // Two more renewal rounds of the new replica (its heartbeat moves each round): it would have taken a lease by then if it could.
    const beat = async () => Number((await sql<{ heartbeat: string }>("SELECT heartbeat FROM controllers WHERE id = 'r1'"))[0]?.heartbeat ?? 0);
    const first = await beat();
    await poll('two rounds of r1', async () => ((await beat()) >= first + 3500 ? true : undefined), 30_000);
    const leases = await liveLeases();
    expect(leases.map((l) => l.key)).toContain('controller');
    expect(new Set(leases.map((l) => l.holder))).toEqual(new Set(['r0']));
    const listed = JSON.parse(await ok(['controllers', '--format', 'json'])) as { controllers: Record<string, { ha: string }> };
    expect(listed.controllers[C]!.ha).toBe('1/1 +1 elsewhere');
    const shown = (await showController())['controller-replicas'];
    expect(shown.r0).toMatchObject({ host: 'this host', status: 'alive' });
    expect(shown.r1).toMatchObject({ host: `${h.address}:22`, status: 'alive' });
    // It serves the GUI too (its page and the script the page loads), over TLS with its own certificate from the controller's CA.
    const ca = readFileSync(join(dir(), 'tls', 'ca.crt'), 'utf8');
    const page = await httpsGet(`${shown.r1!.url}/gui/`, ca);
    expect(page.status).toBe(200);
    const script = /src="(\/gui\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script, page.body).toBeDefined();
    expect((await httpsGet(`${shown.r1!.url}${script}`, ca)).status).toBe(200);
  }, 240_000);

  it('when this host\'s replica is lost the agents move to the other host, which takes the work; a machine only this host can make waits for it with the reason', async () => {
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '-n', '2', '--config', 'token=one']);
    await until(M, 'both units active', (st) => ['source/0', 'source/1'].every((u) => workload(st, u) === 'active token=one'), 180_000);
    const killed = Date.now();
    process.kill(pid(replicaFile('supervisor.pid', 0)), 'SIGKILL');
    process.kill(pid(replicaFile('controller.pid', 0)), 'SIGKILL');
    // Machine 0 is the enlisted host (its agent dialled this host's --api-address); 2 and 3 are local.
    const machines = ['0', '2', '3'];
    const moved = await poll('every agent connected to r1', async () => {
      const rows = await sql<{ machine: string; latest: string }>("SELECT machine, latest FROM presence WHERE replica = 'r1'");
      return machines.every((m) => rows.some((r) => r.machine === m)) ? Math.max(...rows.map((r) => Number(r.latest))) - killed : undefined;
    }, 60_000, 100);
    process.stderr.write(`replicas-away: ${machines.length} agents on the other host's replica ${moved} ms after kill -9 of r0\n`);
    // The CLI moves to it by itself; changes go through it and reach the units.
    await ok(['config', 'source', 'token=two', '-m', M]);
    await until(M, 'token two on both units', (st) => ['source/0', 'source/1'].every((u) => workload(st, u) === 'active token=two'), 120_000);
    // Once r0's leases expire, r1 holds them all.
    await poll('r1 holding every lease', async () => {
      const l = await liveLeases();
      return l.length >= 2 && l.every((x) => x.holder === 'r1') ? true : undefined;
    }, 60_000);
    // show-controller, answered by the replica elsewhere, shows this host's as not answering once its heartbeat is stale.
    await poll('show-controller to show r0 not answering', async () => ((await showController())['controller-replicas'].r0?.status === 'not answering' ? true : undefined), 30_000);
    expect((await showController())['controller-replicas'].r1).toMatchObject({ host: `${h.address}:22`, status: 'alive' });
    // A new machine needs this host's provider: it waits, saying why.
    await ok(['add-unit', 'source', '-m', M]);
    const s = await until(M, 'the new machine to show why it waits', (st) => Object.values(st.machines).some((m) => m['machine-status']?.current === 'provisioning error'), 60_000);
    const waiting = Object.values(s.machines).find((m) => m['machine-status']?.current === 'provisioning error')!;
    expect(waiting['juju-status'].current).toBe('pending');
    expect(waiting['machine-status']?.message).toMatch(/cannot create machine \d+: this controller replica runs away from 127\.0\.0\.1, where the local-process provider's machines are/);

    // This host comes back: its replica takes the work back and makes the machine.
    await ok(['start-controller', C]);
    await until(M, 'three units active', (st) => ['source/0', 'source/1', 'source/2'].every((u) => workload(st, u) === 'active token=two'), 180_000);
    await poll('r0 holding every lease again', async () => {
      const l = await liveLeases();
      return l.length >= 2 && l.every((x) => x.holder === 'r0') ? true : undefined;
    }, 60_000);
    expect((await status(M)).applications.source?.units?.['source/2']).toBeDefined();
  }, 600_000);

  it('enable-ha -n 1 removes the replica from the other host, leaving nothing there', async () => {
    const out = await ok(['enable-ha', C, '-n', '1']);
    expect(out).toMatch(/r0\s+https:\/\/127\.0\.0\.1:\d+\s+alive\s+this host/);
    expect((await hosts.exec(h, LEFTOVERS)).stdout.trim()).toBe('');
    await poll('r1 gone from the store', async () => ((await sql("SELECT id FROM controllers WHERE id = 'r1'")).length === 0 ? true : undefined), 30_000);
    const listed = JSON.parse(await ok(['controllers', '--format', 'json'])) as { controllers: Record<string, { ha: string }> };
    expect(listed.controllers[C]!.ha).toBe('none');
    expect(Object.keys((await showController())['controller-replicas'])).toEqual(['r0']);
  }, 120_000);
});

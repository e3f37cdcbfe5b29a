import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARMS, ok, poll, sigil, status, unit, until, workload } from './harness.ts';
import { alive, freePort } from '../tests/procs.ts';
import { canRun } from '../tests/ci.ts';
import { testDir } from '../tests/temp.ts';

// Real machines: LXC system containers on a bridge Sigil owns. Needs root on Linux (CI is).
const root = process.platform === 'linux' && process.getuid?.() === 0;
const C = 'e2e-lxc';
const M = `${C}:default`;

function memcached(host: string, request: string): Promise<string> {
  return memcachedAt(host, 11211, request);
}

function memcachedAt(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.end(request));
    let out = '';
    s.on('data', (d) => (out += String(d)));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

describe.skipIf(!canRun(root, 'root on Linux (LXC containers)'))('lxc provider (real containers)', () => {
  let config: { bridge: { name: string; subnet: string }; host: string; port: number };
  beforeAll(async () => {
    const r = await sigil(['bootstrap', '--provider', 'lxc', C], { timeoutMs: 600_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    config = JSON.parse(readFileSync(join(process.env.SIGIL_HOME!, 'controllers', C, 'controller.json'), 'utf8'));
  }, 600_000);
  afterAll(async () => {
    await sigil(['destroy-controller', C, '--yes', '--timeout', '2m']);
  }, 180_000);

  it('deploys a charm that apt-get installs memcached, reachable from the host, with constraints as cgroup limits', async () => {
    await ok(['deploy', join(CHARMS, 'memcache-like'), '-m', M, '--constraints', 'mem=256M cores=1']);
    await ok(['deploy', join(CHARMS, 'source'), '-m', M, '--config', 'token=lxc']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', M]);
    await ok(['integrate', 'source', 'sink', '-m', M]);
    const w = await sigil(['wait', '-m', M, '--timeout', '8m']); // installs on a shared runner; the harness outwaits the CLI's deadline by a little
    expect(w.code, w.stderr).toBe(0);
    const s = await status(M);
    const addr = unit(s, 'memcache-like/0')!['public-address']!;
    expect(addr.startsWith(config.bridge.subnet.replace(/\.0\/24$/, '.'))).toBe(true);
    expect(workload(s, 'memcache-like/0')).toBe(`active memcached on ${addr}:11211`);
    expect(unit(s, 'memcache-like/0')?.['open-ports']).toEqual(['11211/tcp']);
    expect(workload(s, 'sink/0')).toBe('active token=lxc app-token=lxc');
    const reply = await memcached(addr, 'set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n');
    expect(reply).toBe('STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n');
    const machine = unit(s, 'memcache-like/0')!.machine!;
    expect((await ok(['ssh', '-m', M, machine, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim()).toBe(String(256 * 1024 * 1024));
  }, 600_000); // four commands and the 8 m wait

  it('expose publishes the opened ports on the host; unexpose withdraws them', async () => {
    await ok(['expose', 'memcache-like', '-m', M]);
    const s = await until(M, 'port published', (x) => (unit(x, 'memcache-like/0')?.['published-ports'] ?? []).length === 1, 15_000);
    const published = unit(s, 'memcache-like/0')!['published-ports']![0]!;
    const hostPort = Number(/^\*:(\d+)->11211\/tcp$/.exec(published)![1]);
    expect(await ok(['status', '-m', M])).toContain(published);
    const reply = await memcachedAt('127.0.0.1', hostPort, 'set e 0 0 3\r\nyes\r\nget e\r\nquit\r\n');
    expect(reply).toBe('STORED\r\nVALUE e 0 3\r\nyes\r\nEND\r\n');
    await ok(['unexpose', 'memcache-like', '-m', M]);
    await until(M, 'port withdrawn', (x) => unit(x, 'memcache-like/0')?.['published-ports'] === undefined, 15_000);
    await expect(memcachedAt('127.0.0.1', hostPort, 'quit\r\n')).rejects.toThrow();
  }, 60_000);

  it('gives each machine a hostname, /etc/hosts naming the model, ssh, scp and exec', async () => {
    const host = (await ok(['ssh', '-m', M, 'sink/0', 'hostname'])).trim();
    expect(host).toMatch(/^sigil-default-\d+$/);
    expect((await ok(['exec', '-m', M, '--unit', 'sink/0', '--', 'cat', '/etc/hostname'])).trim()).toBe(host);
    const hosts = await ok(['ssh', '-m', M, 'sink/0', 'cat', '/etc/hosts']);
    for (const m of Object.values((await status(M)).machines)) expect(hosts).toContain(m['dns-name']!);
    const dest = join(testDir('sigil-scp-'), 'hostname');
    await ok(['scp', '-m', M, 'sink/0:/etc/hostname', dest]);
    expect(readFileSync(dest, 'utf8').trim()).toBe(host);
    expect((await ok(['ssh', '-m', M, 'sink/0', 'ip', 'route'])).includes('default')).toBe(false);
  }, 120_000);

  it('replaces the container of a create that stopped part-way, so the machine\'s agent (with a fresh credential) connects', async () => {
    // What a create that failed after writing its record leaves (lxc-wait timing out on a
    // busy host; the controller stopping mid-create): a container record with no working
    // container. The retry comes with a newly issued credential, which only a new container holds.
    await ok(['add-model', 'leftover', '-c', C]);
    const name = 'sigil-leftover-0';
    const dir = join(process.env.SIGIL_HOME!, 'controllers', C, 'lxc-provider', 'lxc', name);
    mkdirSync(dir, { recursive: true });
    const address = config.bridge.subnet.replace(/\.0\/24$/, '.250');
    writeFileSync(join(dir, 'machine.json'), JSON.stringify({ model: 'leftover', id: '0', name, hostname: name, address, constraints: '' }));
    await ok(['deploy', join(CHARMS, 'source'), '-m', `${C}:leftover`, '--config', 'token=again']);
    await until(`${C}:leftover`, 'source/0 active on a working machine', (x) => workload(x, 'source/0') === 'active token=again', 240_000);
    await ok(['destroy-model', `${C}:leftover`, '--yes', '--timeout', '2m']);
  }, 300_000);

  it('shows a machine stopped outside Sigil as down with lost agents, and remove-machine --force cleans it up', async () => {
    const s = await status(M);
    const machine = unit(s, 'sink/0')!.machine!;
    const instance = s.machines[machine]!['instance-id'];
    const lxcpath = join(process.env.SIGIL_HOME!, 'controllers', C, 'lxc-provider', 'lxc');
    const t = Date.now();
    execFileSync('lxc-stop', ['-P', lxcpath, '-n', instance, '-k']);
    await until(M, 'sink/0 lost', (x) => unit(x, 'sink/0')?.['juju-status'].current === 'lost' && x.machines[machine]?.['juju-status'].current === 'down', 20_000);
    expect(Date.now() - t).toBeLessThan(14_000);
    await ok(['remove-machine', machine, '--force', '--yes', '-m', M]);
    await until(M, 'machine and unit gone', (x) => x.machines[machine] === undefined && unit(x, 'sink/0') === undefined, 30_000);
    expect(existsSync(join(lxcpath, instance))).toBe(false);
  }, 120_000);

  it('restored from a backup into another SIGIL_HOME at a new port: migrate-agents re-points the containers\' agents', async () => {
    // Issue 18: the controller's directory and process are lost, its host and containers are
    // not. The backup records where the containers are, so the restored controller manages
    // them there; it listens on the bridge's gateway at another port, and migrate-agents
    // rewrites each container's agent config (systemctl stop, patch, start).
    const homeA = process.env.SIGIL_HOME!;
    const homeB = testDir('sigil-lxc-restored-');
    const file = join(testDir('sigil-lxc-backup-'), 'ctl.tar.gz');
    await ok(['create-backup', '-c', C, '--filename', file]);
    const dirA = join(homeA, 'controllers', C);
    const instances = Object.entries((await status(M)).machines).map(([id, m]) => [id, m['instance-id']] as const).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(instances.length).toBeGreaterThan(0);
    const agentUrls = () => instances.map(([, name]) => (JSON.parse(readFileSync(join(dirA, 'lxc-provider', 'lxc', name, 'upper', 'etc', 'sigil', 'agent.json'), 'utf8')) as { controllerUrl: string }).controllerUrl);
    const [sup, ctl] = ['supervisor.pid', 'controller.pid'].map((f) => Number(readFileSync(join(dirA, f), 'utf8')));
    process.kill(sup!, 'SIGTERM');
    await poll('the old controller stops', async () => (alive(sup!) || alive(ctl!) ? undefined : true), 20_000);
    const port = await freePort(config.host);
    process.env.SIGIL_HOME = homeB;
    try {
      const elsewhere = await sigil(['restore-backup', file, '--address', `127.0.0.1:${port}`]);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toContain(`ERROR an LXC controller listens on its bridge's gateway, ${config.host}\nhint: give only another port (--address ${config.host}:PORT)`);
      const restored = await ok(['restore-backup', file, '--address', `${config.host}:${port}`]);
      expect(restored).toContain(`Machines' agents still dial ${config.host}:${config.port}: run \`sigil migrate-agents\``);
      expect(new Set(agentUrls())).toEqual(new Set([`https://${config.host}:${config.port}`]));
      const out = await ok(['migrate-agents', '--timeout', '100s'], { timeoutMs: 150_000 });
      expect(out).toMatch(new RegExp(`^Agents re-pointed to https://${config.host.replaceAll('.', '\\.')}:${port}:\n${instances.map(([id]) => `  default/${id}  \\(through the provider\\)  reconnected after \\S+\\n`).join('')}$`));
      expect(new Set(agentUrls())).toEqual(new Set([`https://${config.host}:${port}`]));
      // The restored controller drives the re-pointed agents.
      await ok(['config', 'source', '-m', M, 'token=moved']);
      await until(M, 'source/0 configured by the restored controller', (x) => workload(x, 'source/0') === 'active token=moved', 60_000);
      const d = await sigil(['destroy-controller', C, '--yes', '--timeout', '2m']);
      expect(d.code, d.stderr).toBe(0);
      expect(execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })).not.toContain(config.bridge.name);
      expect(existsSync(join(dirA, 'lxc-provider', 'lxc'))).toBe(false);
    } finally {
      process.env.SIGIL_HOME = homeA;
    }
  }, 300_000);

  it('destroy-controller leaves the host as it found it', async () => {
    const r = await sigil(['destroy-controller', C, '--yes', '--timeout', '2m']);
    expect(r.code, r.stderr).toBe(0);
    const links = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' });
    expect(links).not.toContain(config.bridge.name);
    expect(existsSync(join(process.env.SIGIL_HOME!, 'controllers', C))).toBe(false);
    const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(procs).not.toContain(join(process.env.SIGIL_HOME!, 'controllers', C));
  }, 180_000);
});

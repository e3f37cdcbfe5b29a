// Manual smoke test of the LXC provider on a real host (root): host packages, base image,
// bridge and apt cache, two machines, every property a charm relies on, then teardown and
// a check that the host is clean. Prints timings.
//   node scripts/lxc-smoke.mjs [--rebuild-image] [--keep]
// Environment: SMOKE_BRIDGE (sigilbr-t0), SMOKE_SUBNET (10.231.0.0/24),
//   SMOKE_IMAGES (/var/tmp/sigil-lxc-smoke/images: the image stays cached between runs).
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const bridgeName = process.env.SMOKE_BRIDGE ?? 'sigilbr-t0';
const subnet = process.env.SMOKE_SUBNET ?? '10.231.0.0/24';
const imagesDir = process.env.SMOKE_IMAGES ?? '/var/tmp/sigil-lxc-smoke/images';
const gateway = subnet.replace(/\.0\/24$/, '.1');
const tmp = mkdtempSync(join(tmpdir(), 'sigil-lxc-smoke-'));
const results = [];
const timings = [];

const ms = (t0) => Date.now() - t0;
const sleep = (n) => new Promise((r) => setTimeout(r, n));
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}
function timing(name, value) {
  timings.push([name, value]);
  console.log(`TIME  ${name}: ${value}`);
}
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });
/** What a clean teardown must restore exactly: links, routes, mounts, forwarding, LXC cgroups. */
const hostState = () => ({
  links: sh('ip', ['-br', 'link']).stdout.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean).sort().join(' '),
  routes: sh('ip', ['route']).stdout.trim(),
  mounts: readFileSync('/proc/mounts', 'utf8').split('\n').length,
  forwarding: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
  lxcCgroups: sh('find', ['/sys/fs/cgroup', '-maxdepth', '3', '-name', 'lxc*']).stdout.trim().split('\n').filter(Boolean).length,
});
const before = hostState();

await build({ entryPoints: [join(root, 'packages/providers/src/lxc/index.ts')], outfile: join(tmp, 'lxc.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
const lxc = await import(join(tmp, 'lxc.mjs'));
const agentEntry = join(root, 'dist', 'agent.mjs');
if (!existsSync(agentEntry)) throw new Error(`${agentEntry} is missing: run npm run build first`);

// 1. Host packages and the base image.
let t = Date.now();
await lxc.ensureHostPackages((l) => console.log(`  apt: ${l}`));
timing('host packages present/installed', `${ms(t)} ms`);
t = Date.now();
const img = await lxc.ensureImage(imagesDir, { force: argv.includes('--rebuild-image'), onProgress: (l) => console.log(`  image: ${l}`) });
timing(img.built ? 'image build (mmdebstrap)' : 'image (cached, not rebuilt)', `${(ms(t) / 1000).toFixed(1)} s`);
console.log(`  image: ${img.rootfs}, ${sh('du', ['-sh', img.rootfs]).stdout.split('\t')[0]}`);

// 2. A stand-in controller on the bridge address: the agents inside will call it.
const key = join(tmp, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
const provider = new lxc.LxcProvider({
  root: join(tmp, 'provider'), imagesDir, bridge: { name: bridgeName, subnet }, agentEntry,
  authorizedKeys: readFileSync(`${key}.pub`, 'utf8'), log: (m, f) => console.log(`  provider: ${m} ${JSON.stringify(f)}`),
});
const firstRequest = new Map();
const record = (req) => {
  const from = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '?';
  if (!firstRequest.has(from)) firstRequest.set(from, { at: Date.now(), url: req.url, auth: req.headers.authorization ?? '' });
};
const server = createServer((req, res) => {
  record(req);
  res.writeHead(req.url === '/hello' ? 200 : 503, { 'content-type': 'text/plain' }).end(req.url === '/hello' ? 'hello from the host' : 'not a controller');
});

// The agent's change feed is a WebSocket: note the upgrade, then refuse it.
server.on('upgrade', (req, socket) => (record(req), socket.destroy()));

let failed;
try {
  t = Date.now();
  await provider.prepare();
  timing('prepare (bridge + apt-cacher-ng)', `${ms(t)} ms`);
  await new Promise((r) => server.listen(0, gateway, r));
  const controllerUrl = `http://${gateway}:${server.address().port}`;

  // 3. Two machines at once, one with constraints.
  const specs = [
    { model: 'smoke', id: '0', constraints: 'mem=256M cores=1', controllerUrl, token: 'token-0' },
    { model: 'smoke', id: '1', constraints: '', controllerUrl, token: 'token-1' },
  ];
  t = Date.now();
  const started = specs.map(() => 0);
  const instances = await Promise.all(specs.map(async (s, i) => {
    const inst = await provider.create(s);
    started[i] = ms(t);
    return inst;
  }));
  timing('create 2 machines in parallel, to lxc RUNNING', started.map((x) => `${x} ms`).join(', '));
  const ex = (i, args) => provider.exec('smoke', specs[i].id, args);
  const booted = await Promise.all(instances.map(async (inst, i) => {
    let state = '';
    while (ms(t) < 60_000) {
      state = (await ex(i, ['systemctl', 'is-system-running'])).stdout.trim();
      if (state === 'running' || state === 'degraded') break;
      await sleep(25);
    }
    return { state, ms: ms(t) };
  }));
  timing('create -> systemd is-system-running', booted.map((b) => `${b.state} at ${b.ms} ms`).join(', '));
  for (const [i, b] of booted.entries()) {
    const failedUnits = b.state === 'degraded' ? (await ex(i, ['systemctl', '--failed', '--plain', '--no-legend'])).stdout.trim() : '';
    check(`machine ${i}: systemd running`, b.state === 'running', failedUnits);
  }
  for (const [i, inst] of instances.entries()) {
    while (!firstRequest.has(inst.address) && ms(t) < 10_000) await sleep(10);
    const seen = firstRequest.get(inst.address);
    check(`machine ${i}: agent (systemd unit, host node, bind-mounted bundle) reached the controller URL`, seen !== undefined && seen.auth.includes(specs[i].token), seen ? `${seen.at - t} ms after create began, ${seen.url}` : 'no request');
  }

  // 4. Identity, names, node, network, limits, ssh.
  for (const [i, inst] of instances.entries()) {
    const hn = (await ex(i, ['hostname'])).stdout.trim();
    check(`machine ${i}: hostname`, hn === inst.hostname, `${hn} @ ${inst.address}`);
    const hosts = (await ex(i, ['cat', '/etc/hosts'])).stdout;
    check(`machine ${i}: /etc/hosts names both machines`, instances.every((o) => hosts.includes(`${o.address} ${o.hostname}`)));
    const nv = (await ex(i, ['/usr/local/bin/node', '-e', 'console.log(process.version)'])).stdout.trim();
    check(`machine ${i}: host node runs inside`, nv === process.version, nv);
    const ro = await ex(i, ['sh', '-c', 'touch /opt/sigil/dist/x 2>&1; touch /usr/local/bin/node 2>&1']);
    check(`machine ${i}: node and bundle are read-only`, ro.stdout.includes('Read-only'), ro.stdout.trim().split('\n')[0]);
    const hello = (await ex(i, ['curl', '-s', '-m', '5', `http://${gateway}:${server.address().port}/hello`])).stdout;
    check(`machine ${i}: reaches an HTTP server on the bridge address`, hello === 'hello from the host');
    const route = (await ex(i, ['ip', 'route'])).stdout.trim().replace(/\n/g, ' | ');
    check(`machine ${i}: no default route`, !route.includes('default'), route);
    const keys = (await ex(i, ['sh', '-c', 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'])).stdout.trim();
    check(`machine ${i}: own ssh host key`, keys.includes(inst.hostname), keys.split(' ')[1]);
    const tools = (await ex(i, ['sh', '-c', 'for c in sudo ps ip python3 curl lsb_release; do command -v $c >/dev/null || echo missing $c; done; test -f /etc/ssl/certs/ca-certificates.crt || echo missing ca-certificates'])).stdout.trim();
    check(`machine ${i}: sudo procps iproute2 python3 curl lsb-release ca-certificates`, tools === '', tools);
    t = Date.now();
    const s = sh('ssh', ['-i', key, '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${inst.address}`, 'true']);
    check(`machine ${i}: ssh root@${inst.address} with the key`, s.status === 0, `${ms(t)} ms ${s.stderr.trim()}`);
  }
  const mem = (await ex(0, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim();
  const memsw = (await ex(0, ['cat', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'])).stdout.trim();
  const quota = (await ex(0, ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).stdout.trim();
  check('machine 0: mem=256M applied (memory.limit_in_bytes inside)', mem === '268435456', `memory ${mem}, memsw ${memsw}`);
  check('machine 0: cores=1 applied (cpu.cfs_quota_us inside)', quota === '100000', quota);
  const mem1 = (await ex(1, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim();
  check('machine 1: no memory limit without constraints', Number(mem1) > 2 ** 40, mem1);

  // 5. apt through the cache: the provisioning refresh, then memcached on both machines.
  for (const i of [0, 1]) {
    t = Date.now();
    while ((await ex(i, ['test', '-f', '/var/lib/sigil/apt-refreshed'])).code !== 0 && ms(t) < 120_000) await sleep(200);
    const st = (await ex(i, ['systemctl', 'show', '-p', 'Result,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic', 'sigil-apt-refresh'])).stdout.trim().split('\n');
    const num = (k) => Number(st.find((l) => l.startsWith(k))?.split('=')[1] ?? 0);
    check(`machine ${i}: apt lists refreshed at provisioning`, st.includes('Result=success'), `apt-get update took ${((num('ExecMainExitTimestampMonotonic') - num('ExecMainStartTimestampMonotonic')) / 1000).toFixed(0)} ms inside`);
  }
  for (const i of [0, 1]) {
    t = Date.now();
    const inst = await ex(i, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', 'memcached']);
    timing(`machine ${i}: apt-get install -y memcached (${i === 0 ? 'cold' : 'warm'} cache)`, `${ms(t)} ms`);
    check(`machine ${i}: apt-get install memcached`, inst.code === 0, inst.stderr.trim().split('\n').slice(-2).join(' | '));
    const active = (await ex(i, ['systemctl', 'is-active', 'memcached'])).stdout.trim();
    check(`machine ${i}: memcached started by the package`, active === 'active', active);
  }
  await ex(0, ['sh', '-c', "sed -i 's/^-l .*/-l 0.0.0.0/' /etc/memcached.conf && systemctl restart memcached"]);
  const memcachedVersion = () => new Promise((resolve) => {
    const s = connect({ host: instances[0].address, port: 11211, timeout: 3000 }, () => s.write('version\r\n'));
    s.once('data', (d) => (s.destroy(), resolve(d.toString().trim())));
    s.once('error', (e) => resolve(e.message));
    s.once('timeout', () => (s.destroy(), resolve('timeout')));
  });
  // systemctl restart returns before memcached binds its port.
  let version = '';
  for (t = Date.now(); ms(t) < 5000; await sleep(50)) if ((version = await memcachedVersion()).startsWith('VERSION')) break;
  check(`memcached on ${instances[0].address}:11211 answers from the host`, String(version).startsWith('VERSION'), String(version));
  const byName = await ex(1, ['python3', '-c', `import socket; s=socket.create_connection(("${instances[0].hostname}",11211),3); s.sendall(b"version\\r\\n"); print(s.recv(64).decode().strip())`]);
  check('machine 1 reaches machine 0 by hostname (/etc/hosts)', byName.stdout.startsWith('VERSION'), byName.stdout.trim() || byName.stderr.trim().split('\n').pop());
  const cached = sh('du', ['-sh', join(tmp, 'provider', 'apt-cache', 'cache')]).stdout.split('\t')[0];
  console.log(`  apt-cacher-ng cache now holds ${cached}`);

  // 6. Lifecycle: killed outside Sigil, brought back; clean stop; create is idempotent.
  execFileSync('lxc-stop', ['-P', provider.lxcpath, '-n', instances[1].instanceId, '-k']);
  const killed = await provider.state('smoke', '1');
  t = Date.now();
  await provider.ensureRunning('smoke', '1');
  timing('ensureRunning after lxc-stop -k', `${ms(t)} ms (state was ${killed})`);
  t = Date.now();
  while ((await ex(1, ['systemctl', 'is-active', 'memcached'])).stdout.trim() !== 'active' && ms(t) < 30_000) await sleep(25);
  check('machine 1 back with memcached active after a kill', (await provider.state('smoke', '1')) === 'RUNNING', `${ms(t)} ms after restart`);
  // A host reboot: containers, bridge and cache all gone; ensureRunning brings them back.
  for (const inst of instances) execFileSync('lxc-stop', ['-P', provider.lxcpath, '-n', inst.instanceId, '-k']);
  process.kill(await provider.aptCache.pid(), 'SIGKILL');
  execFileSync('ip', ['link', 'del', bridgeName]);
  t = Date.now();
  await Promise.all(specs.map((s) => provider.ensureRunning('smoke', s.id)));
  timing('"reboot" (containers killed, bridge deleted, cache killed) -> ensureRunning both', `${ms(t)} ms`);
  version = '';
  for (; ms(t) < 15_000; await sleep(50)) if ((version = await memcachedVersion()).startsWith('VERSION')) break;
  check('after the "reboot": bridge, both machines and memcached back', sh('ip', ['link', 'show', 'dev', bridgeName]).status === 0 && (await provider.state('smoke', '0')) === 'RUNNING' && (await provider.state('smoke', '1')) === 'RUNNING' && version.startsWith('VERSION'), `memcached answered ${ms(t)} ms after ensureRunning began`);
  const proxied = await ex(1, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${gateway}:3142/acng-report.html`]);
  check('after the "reboot": apt cache answers machines', proxied.stdout === '200', proxied.stdout);
  const again = await provider.create(specs[1]);
  check('create of an existing machine returns the same instance', again.address === instances[1].address);
  t = Date.now();
  await provider.stop('smoke', '1');
  timing('clean stop (systemd halt)', `${ms(t)} ms`);
  check('stop leaves the machine STOPPED', (await provider.state('smoke', '1')) === 'STOPPED');
  t = Date.now();
  await provider.destroy('smoke', '1');
  timing('destroy one machine', `${ms(t)} ms`);
  const hosts0 = (await ex(0, ['cat', '/etc/hosts'])).stdout;
  check('destroy removes the machine from the others\' /etc/hosts', !hosts0.includes(instances[1].hostname));
} catch (e) {
  failed = e;
  console.log(`ERROR ${e.stack ?? e}${e.hint ? `\n  hint: ${e.hint}` : ''}`);
} finally {
  // 7. Teardown, and proof that the host is as before.
  server.close();
  if (!argv.includes('--keep')) {
    const t0 = Date.now();
    await provider.teardown();
    timing('teardown (containers, apt cache, bridge)', `${ms(t0)} ms`);
    check('no containers left in the lxcpath', !existsSync(provider.lxcpath) || readdirSync(provider.lxcpath).length === 0);
    check(`bridge ${bridgeName} gone`, sh('ip', ['link', 'show', 'dev', bridgeName]).status !== 0);
    const veths = sh('ip', ['-br', 'link']).stdout.split('\n').filter((l) => /^sg[0-9a-f]{11}/.test(l));
    check('no veth left', veths.length === 0, veths.join(', '));
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(tmp) || l.includes(imagesDir));
    check('no mounts left', mounts.length === 0, mounts.join(' | '));
    check('apt-cacher-ng stopped', (await provider.aptCache.pid()) === undefined && !sh('ps', ['-eo', 'args']).stdout.includes(tmp));
    const cg = sh('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-type', 'd', '-name', '*sigil-smoke-*']).stdout.trim();
    check('no container cgroups left', cg === '', cg.replace(/\n/g, ' '));
    const after = hostState();
    for (const k of Object.keys(before)) check(`host ${k} as before`, before[k] === after[k], before[k] === after[k] ? String(after[k]).slice(0, 80) : `before ${before[k]}, after ${after[k]}`);
    rmSync(tmp, { recursive: true, force: true });
  } else {
    console.log(`kept: ${tmp} (lxcpath ${provider.lxcpath}); clean up with lxc-stop -k, ip link del ${bridgeName}, kill $(cat ${tmp}/provider/apt-cache/apt-cacher-ng.pid)`);
  }
  const bad = results.filter((r) => !r.ok);
  console.log(`\n${results.length - bad.length}/${results.length} checks passed${failed ? ', stopped early by an error' : ''}`);
  process.exitCode = bad.length > 0 || failed ? 1 : 0;
}

// Enlisting existing hosts over ssh (add-machine ssh:): one host from `sigil add-machine` to
// agent connected (median of 3, the same host removed and enlisted again), then 10 hosts at
// once (the slowest of the ten, against one). Goal: < 3 s per host; 10 at once < 2x one.
// Then one host that already has this Node (root's /usr/local/bin/node): nothing big to copy.
// BASE=<commit> also enlists the first host with that commit's build (its own controller),
// alternating with this one, for a before/after under the same load (lib.ts buildAt).
// The hosts are stand-ins (LXC system containers with sshd, e2e/ssh-hosts.ts); the base
// image is cached in SIGIL_IMAGES (default /var/tmp/sigil-images; the first run builds it).
// Needs root on Linux with LXC.
import { execFile } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { StandInHosts, type StandInHost } from '../e2e/ssh-hosts.ts';
import { SIGIL, buildAt, ms, stats, withController } from './lib.ts';

if (process.getuid?.() !== 0) {
  console.log('enlist: skipped (needs root)');
  process.exit(0);
}
const hosts = await StandInHosts.create(process.env.SIGIL_IMAGES ?? '/var/tmp/sigil-images');
let c: ReturnType<typeof withController> | undefined;
let cb: ReturnType<typeof withController> | undefined;
const base = process.env.BASE ? buildAt(process.env.BASE) : undefined;
try {
  const all = await Promise.all(Array.from({ length: 12 }, (_, i) => hosts.add(`bench-enl-${process.pid}-${i}`)));
  const withNode = all.pop()!;
  await new Promise<void>((resolve, reject) => {
    const cp = execFile('ssh', ['-i', hosts.key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `root@${withNode.address}`, 'cat > /usr/local/bin/node && chmod 755 /usr/local/bin/node'], (err) => (err ? reject(err) : resolve()));
    createReadStream(process.execPath).pipe(cp.stdin!);
  });
  const known = join(hosts.dir, 'known_hosts');
  writeFileSync(known, (await Promise.all([...all, withNode].map((h) => hosts.knownHostsLine(h)))).join(''));
  c = withController('bench-enlist', ['--provider', 'local-process', '--api-address', hosts.gateway]);
  if (base) cb = withController('bench-enlist-base', ['--provider', 'local-process', '--api-address', hosts.gateway], base.sigil);
  let shown = 0;
  // Each enlistment's step lines, by host: the slowest of the ten is printed too.
  const steps = new Map<StandInHost, string>();
  const enlist = (h: StandInHost, on = c!, sigil = SIGIL) => new Promise<number>((resolve, reject) => {
    const env = { ...process.env, SIGIL_HOME: on.home };
    const t = performance.now();
    execFile(sigil, ['add-machine', `ssh:root@${h.address}`, '--private-key', hosts.key, '--known-hosts', known], { env }, (err, _out, stderr) => {
      if (err) return reject(new Error(stderr));
      // The steps of the first enlistment, with their times, show where time goes.
      if (shown++ === 0 || h === withNode) console.log(stderr.trimEnd());
      steps.set(h, stderr.trimEnd());
      resolve(performance.now() - t);
    });
  });
  const machines = (on = c!) => Object.keys((JSON.parse(on.run(['status', '--format', 'json'])) as ModelStatusDoc).machines);
  const gone = async (on = c!) => {
    while (machines(on).length > 0) await new Promise((r) => setTimeout(r, 50));
  };
  const one: number[] = [];
  const before: number[] = [];
  for (let i = 0; i < 3; i++) {
    if (base && cb) {
      before.push(await enlist(all[0]!, cb, base.sigil));
      cb.run(['remove-machine', ...machines(cb), '--no-prompt']);
      await gone(cb);
    }
    one.push(await enlist(all[0]!));
    c.run(['remove-machine', ...machines(), '--no-prompt']);
    await gone();
  }
  const s1 = stats(one);
  console.log(`enlist 1 host to agent connected: median ${ms(s1.median)}, min ${ms(s1.min)}, max ${ms(s1.max)} (goal < 3 s)`);
  if (base) {
    const s0 = stats(before);
    console.log(`  before (${base.sha.slice(0, 10)}), alternating on the same host: median ${ms(s0.median)}, min ${ms(s0.min)}, max ${ms(s0.max)}; now ${(s1.median / s0.median).toFixed(2)}x before`);
  }
  const t = performance.now();
  const ten = await Promise.all(all.slice(1).map((h) => enlist(h)));
  const wall = performance.now() - t;
  const s10 = stats(ten);
  console.log(`enlist 10 hosts at once: all connected in ${ms(wall)}; per host median ${ms(s10.median)}, max ${ms(s10.max)}; ${(wall / s1.median).toFixed(2)}x one (goal < 2x)`);
  console.log(`the slowest of the ten:\n${steps.get(all.slice(1)[ten.indexOf(s10.max)]!)}`);
  c.run(['remove-machine', ...machines(), '--no-prompt']);
  await gone();
  const reuse = await enlist(withNode);
  console.log(`enlist 1 host that has this Node already: ${ms(reuse)}; ${(reuse / s1.median).toFixed(2)}x one that needs the copy`);
  c.run(['remove-machine', ...machines(), '--no-prompt']);
  await gone();
} finally {
  c?.close();
  cb?.close();
  await hosts.destroy();
}

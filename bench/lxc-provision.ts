// LXC machines: provision one machine to agent connected (median of 10, sequential), 10 at
// once (total, and the per-machine rate against the one-at-a-time rate), and a deploy of 3
// applications / 10 units / 2 relations with charms that install nothing, to all settled.
// Targets: < 1 s per machine; no collapse at 10; deploy < 15 s. Needs root on Linux.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelStatusDoc } from '@sigil/api';
import { ROOT, ms, stats, withController } from './lib.ts';

if (process.getuid?.() !== 0) {
  console.log('lxc-provision: skipped (needs root)');
  process.exit(0);
}
const c = withController('bench-lxc', ['--provider', 'lxc']);
try {
  const started = (model: string, n: number) => {
    const s = JSON.parse(c.run(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
    return Object.values(s.machines).filter((m) => m['juju-status'].current === 'started').length >= n;
  };
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise((r) => setTimeout(r, 20));
  };
  const one: number[] = [];
  for (let i = 0; i < 10; i++) {
    const model = `one${i}`;
    c.run(['add-model', model]);
    const t = performance.now();
    c.run(['add-machine', '-m', model]);
    await until(() => started(model, 1));
    one.push(performance.now() - t);
    c.run(['destroy-model', model, '--yes']);
  }
  const s1 = stats(one);
  console.log(`provision 1 machine to agent connected: median ${ms(s1.median)}, min ${ms(s1.min)}, max ${ms(s1.max)} (target < 1 s; LXD 1-2.4 s)`);
  c.run(['add-model', 'ten']);
  let t = performance.now();
  c.run(['add-machine', '-m', 'ten', '-n', '10']);
  await until(() => started('ten', 10));
  const ten = performance.now() - t;
  console.log(`provision 10 machines at once: ${(ten / 1000).toFixed(2)} s total; rate ${(10000 / ten).toFixed(1)}/s at 10 vs ${(1000 / s1.median).toFixed(1)}/s at 1`);
  c.run(['destroy-model', 'ten', '--yes']);
  const file = join(mkdtempSync(join(tmpdir(), 'sigil-bench-')), 'b.yaml');
  writeFileSync(file, `applications:
  a: {charm: ${ROOT}/bench/charms/noop, num_units: 3}
  source: {charm: ${ROOT}/tests/charms/source, num_units: 2}
  sink: {charm: ${ROOT}/tests/charms/sink, num_units: 5}
relations:
  - [sink, source]
  - [source, a]
`.replace('  - [source, a]\n', ''));
  c.run(['add-model', 'stack']);
  t = performance.now();
  c.run(['deploy', file, '-m', 'stack', '--no-progress']);
  console.log(`deploy 3 applications / 10 units / relations (charms install nothing) to settled: ${((performance.now() - t) / 1000).toFixed(2)} s (target < 15 s)`);
} finally {
  c.close();
}

// Re-apply an unchanged 10-unit bundle: the whole `sigil deploy bundle.yaml` command, and
// the hook runs it causes. Target: under 2 s and zero hook runs. Baseline: `sigil status`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SIGIL, ms, stats, timeCmd, withController } from './lib.ts';

const c = withController('bench-bundle');
try {
  const file = join(mkdtempSync(join(tmpdir(), 'sigil-bench-bundle-')), 'b.yaml');
  writeFileSync(file, `applications:
  source: {charm: ${ROOT}/tests/charms/source, num_units: 2, options: {token: x}}
  sink: {charm: ${ROOT}/tests/charms/sink, num_units: 8}
relations:
  - [sink, source]
`);
  const t = performance.now();
  c.run(['deploy', file, '--no-progress']);
  console.log(`first deploy of the 10-unit bundle to settled: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const ran = () => c.run(['debug-log', '--replay', '--no-tail', '-l', 'INFO']).split('\n').filter((l) => / ran "/.test(l)).length;
  const before = ran();
  const env = { ...process.env, SIGIL_HOME: c.home };
  const runs: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 5; i++) {
    runs.push(await timeCmd(SIGIL, ['deploy', file], env));
    base.push(await timeCmd(SIGIL, ['status'], env));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const s = stats(runs);
  console.log(`re-apply unchanged: median ${ms(s.median)}, max ${ms(s.max)}; hook runs caused: ${ran() - before} (target < 2 s, 0 hooks)`);
  console.log(`baseline sigil status: median ${ms(stats(base).median)}; ratio ${(s.median / stats(base).median).toFixed(1)}x`);
} finally {
  c.close();
}

// Codetree-style collection of 20 local git repositories (git+file://, each a charm-sized
// tree of 60 files): one directive at a time (--jobs 1) against all at once (the default, one
// worker per directive, as Codetree runs them), in one run on this machine. Each mode
// collects into a fresh directory; three rounds each, alternating, so a warm cache favours
// neither. Figures only: the speed-up depends on cores and disk.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectAll } from '../packages/cli/src/collect/collect.ts';
import { parseCollectConfig } from '../packages/cli/src/collect/config.ts';

const N = 20;
const FILES = 60;
const ROUNDS = 3;
const tmp = mkdtempSync(join(tmpdir(), 'sigil-bench-collect-'));
const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
let config = '';
for (let i = 0; i < N; i++) {
  const repo = join(tmp, 'repos', `charm${i}`);
  mkdirSync(join(repo, 'hooks'), { recursive: true });
  writeFileSync(join(repo, 'metadata.yaml'), `name: charm${i}\nsummary: s\ndescription: d\n`);
  for (let f = 0; f < FILES; f++) writeFileSync(join(repo, f % 3 ? `file${f}.txt` : join('hooks', `hook${f}`)), `charm ${i} file ${f}\n`.repeat(200));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo, env });
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-qm', 'c'], { cwd: repo, env });
  config += `charms/charm${i} git+file://${repo}\n`;
}
const directives = parseCollectConfig(config, 'bench-collect');

async function once(jobs: number | undefined, round: number): Promise<number> {
  const dir = join(tmp, `out-${jobs ?? 'all'}-${round}`);
  const t0 = performance.now();
  const results = await collectAll(directives, dir, { baseDir: tmp, ...(jobs !== undefined ? { jobs } : {}) });
  const ms = performance.now() - t0;
  const bad = results.filter((r) => r.status !== 'collected');
  if (bad.length > 0) throw new Error(`collect failed: ${bad[0]!.error?.message}`);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const serial: number[] = [];
const concurrent: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  serial.push(await once(1, r));
  concurrent.push(await once(undefined, r));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`collect ${N} git+file:// repositories (${FILES + 1} files each) on ${cpus().length} cores, ${ROUNDS} rounds:`);
console.log(`  one at a time (--jobs 1):   median ${median(serial).toFixed(0)} ms  (rounds: ${serial.map((x) => x.toFixed(0)).join(', ')} ms)`);
console.log(`  all at once (default):      median ${median(concurrent).toFixed(0)} ms  (rounds: ${concurrent.map((x) => x.toFixed(0)).join(', ')} ms)`);
console.log(`  speed-up: ${(median(serial) / median(concurrent)).toFixed(2)}x`);
rmSync(tmp, { recursive: true, force: true });

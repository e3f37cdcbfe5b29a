import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SIGIL = join(ROOT, 'bin', 'sigil');

/**
 * A private SIGIL_HOME with one controller, torn down by the returned function. `sigil` is
 * the CLI to use (another build's, to compare with an older commit in the same run).
 */
export function withController(name: string, bootstrapArgs: string[] = ['--provider', 'local-process'], sigil = SIGIL): { home: string; run(args: string[]): string; close(): void } {
  const home = mkdtempSync(join(tmpdir(), 'sigil-bench-'));
  const env = { ...process.env, SIGIL_HOME: home };
  const run = (args: string[]) => execFileSync(sigil, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  run(['bootstrap', ...bootstrapArgs, name]);
  return {
    home,
    run,
    close() {
      try {
        run(['destroy-controller', name, '--yes']);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

export function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(cmd, args, { env, maxBuffer: 256 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve(performance.now() - t)));
  });
}

export function stats(xs: number[]): { median: number; p99: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p99: at(0.99), min: s[0]!, max: s[s.length - 1]! };
}

export const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * The repository at `commit`, built (`node scripts/build.mjs`) in a directory of its own under
 * the system's temporary directory, for a benchmark to run an older build beside the current
 * one in the same run. The tree comes from `git archive` (nothing is registered in the
 * repository); its node_modules links to this checkout's, except the workspace packages,
 * which link to the old tree's own. A finished build is reused by later runs.
 */
export function buildAt(commit: string): { root: string; sigil: string; sha: string } {
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${commit}^{commit}`], { encoding: 'utf8' }).trim();
  const root = join(tmpdir(), `sigil-build-${sha.slice(0, 12)}`);
  const done = join(root, '.sigil-bench-built');
  if (!existsSync(done)) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, 'node_modules', '@sigil'), { recursive: true });
    execFileSync('sh', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'sh', ROOT, sha, root], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const e of readdirSync(join(ROOT, 'node_modules'))) {
      if (e !== '@sigil') symlinkSync(join(ROOT, 'node_modules', e), join(root, 'node_modules', e));
    }
    for (const p of readdirSync(join(root, 'packages'))) symlinkSync(join('..', '..', 'packages', p), join(root, 'node_modules', '@sigil', p));
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(done, `${sha}\n`);
  }
  return { root, sigil: join(root, 'bin', 'sigil'), sha };
}

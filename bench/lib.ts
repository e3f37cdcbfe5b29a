import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SIGIL = join(ROOT, 'bin', 'sigil');

/** A private SIGIL_HOME with one controller, torn down by the returned function. */
export function withController(name: string, bootstrapArgs: string[] = ['--provider', 'local-process']): { home: string; run(args: string[]): string; close(): void } {
  const home = mkdtempSync(join(tmpdir(), 'sigil-bench-'));
  const env = { ...process.env, SIGIL_HOME: home };
  const run = (args: string[]) => execFileSync(SIGIL, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
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

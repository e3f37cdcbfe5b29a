import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from './harness.ts';

/**
 * One controller for the whole end-to-end run (each test file works in its own model),
 * in a private SIGIL_HOME so runs never collide with a user's controllers.
 */
export default function setup(): () => void {
  const home = mkdtempSync(join(tmpdir(), 'sigil-e2e-'));
  process.env.SIGIL_HOME = home;
  const run = (args: string[]) => execFileSync(join(ROOT, 'bin', 'sigil'), args, { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  run(['bootstrap', '--provider', 'local-process', 'e2e']);
  return () => {
    try {
      run(['destroy-controller', 'e2e', '--yes']);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };
}

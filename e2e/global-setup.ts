import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import YAML from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LXC_CONTROLLER, ROOT, canRunContainers } from './harness.ts';

/**
 * One controller for the whole end-to-end run (each test file works in its own model),
 * in a private SIGIL_HOME so runs never collide with a user's controllers.
 */
export default function setup(): () => void {
  const home = mkdtempSync(join(tmpdir(), 'sigil-e2e-'));
  process.env.SIGIL_HOME = home;
  // One base image per host, as for the benchmarks: the first run builds it (its version is
  // in its directory's name, so a change to what it contains builds a new one), later runs
  // and every stand-in host of this one start from it.
  process.env.SIGIL_IMAGES ||= '/var/tmp/sigil-images';
  const run = (args: string[]) => execFileSync(join(ROOT, 'bin', 'sigil'), args, { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  run(['bootstrap', '--provider', 'local-process', 'e2e']);
  // Real machines for the charm suites: one LXC controller (one image, one apt cache) shared
  // by every file that deploys real workloads, each in its own model.
  if (canRunContainers()) {
    process.stderr.write('e2e: bootstrapping the shared LXC controller (first run builds the base image)\n');
    run(['bootstrap', '--provider', 'lxc', LXC_CONTROLLER]);
  }
  return () => {
    // Every controller a test bootstrapped in this home, not only the shared one.
    const names = Object.keys((YAML.parse(readFileSync(join(home, 'controllers.yaml'), 'utf8')) as { controllers: Record<string, unknown> }).controllers);
    for (const name of names) {
      try {
        run(['destroy-controller', name, '--yes']);
      } catch {
        /* reported on stderr; keep tearing down the rest */
      }
    }
    rmSync(home, { recursive: true, force: true });
  };
}

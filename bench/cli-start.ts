// What a CLI call costs before it does anything: `sigil --version`, and `sigil status` (table
// and JSON) on a local-process controller with an empty model, each the median of 15 runs,
// against `node -e 0` in the same process (Node's own start-up, the floor). BASE=<commit>
// runs that commit's build alternately with this one (its own controller), for a ratio.
// NODE_EXTRA_CA_CERTS, when set, makes every Node process parse that bundle at start; the
// figures are printed with and without it.
import { SIGIL, buildAt, ms, stats, timeCmd, withController } from './lib.ts';

const RUNS = 15;
const base = process.env.BASE ? buildAt(process.env.BASE) : undefined;
const c = withController('bench-cli');
const cb = base ? withController('bench-cli-base', ['--provider', 'local-process'], base.sigil) : undefined;
try {
  const cases: [string, string[]][] = [['--version', ['--version']], ['status', ['status']], ['status --format json', ['status', '--format', 'json']]];
  for (const extraCa of process.env.NODE_EXTRA_CA_CERTS ? [true, false] : [false]) {
    const envOf = (home: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, SIGIL_HOME: home };
      if (!extraCa) delete env.NODE_EXTRA_CA_CERTS;
      return env;
    };
    console.log(extraCa ? `with NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}:` : 'without NODE_EXTRA_CA_CERTS:');
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) floor.push(await timeCmd(process.execPath, ['-e', '0'], envOf(c.home)));
    const f = stats(floor).median;
    console.log(`  node -e 0: median ${ms(f)}`);
    for (const [label, args] of cases) {
      const now: number[] = [];
      const before: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        if (base && cb) before.push(await timeCmd(base.sigil, args, envOf(cb.home)));
        now.push(await timeCmd(SIGIL, args, envOf(c.home)));
      }
      const s = stats(now);
      const vsBase = base ? `; ${base.sha.slice(0, 10)}: median ${ms(stats(before).median)}, now ${(s.median / stats(before).median).toFixed(2)}x` : '';
      console.log(`  sigil ${label}: median ${ms(s.median)}, min ${ms(s.min)}, max ${ms(s.max)}; ${(s.median / f).toFixed(2)}x node -e 0${vsBase}`);
    }
  }
} finally {
  cb?.close();
  c.close();
}

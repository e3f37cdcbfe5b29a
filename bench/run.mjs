// Builds and runs every benchmark in bench/ in turn; each prints its own figures.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'bench');
mkdirSync(out, { recursive: true });
const only = process.argv[2];
// Passed on to the benchmarks run: `node bench/run.mjs peer-ansible --n 3 --reps 1`.
const rest = process.argv.slice(3);
// Benchmarks in a directory of their own: the directory name, with main.ts as the entry.
// peer-ansible takes about 15 minutes and runs only when named.
const dirs = ['scale', ...(only && 'peer-ansible'.includes(only) ? ['peer-ansible'] : [])];
const ts = [...readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'lib.ts'), ...dirs.map((d) => `${d}/main.ts`)].filter((f) => !only || f.includes(only));
for (const f of ts) {
  await build({ entryPoints: [join(here, f)], outfile: join(out, outName(f)), bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['better-sqlite3', 'playwright-core'], banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }, logLevel: 'warning' });
}
const scripts = [...ts.map((f) => join(out, outName(f))), ...readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && (!only || f.includes(only))).map((f) => join(here, f))];
for (const s of scripts) {
  console.log(`\n== ${s.split('/').pop()}`);
  execFileSync(process.execPath, [s, ...rest], { stdio: 'inherit' });
}

function outName(f) {
  return f.replace(/\/main\.ts$/, '.mjs').replace(/\.ts$/, '.mjs');
}

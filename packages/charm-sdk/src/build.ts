/**
 * Builds a TypeScript charm: regenerates `src/charm.gen.ts` from the charm's YAML, then
 * bundles `src/charm.ts` (its default export is the Charm) with the SDK into one file,
 * `dist/charm.mjs`, that `dispatch` runs with the machine's Node. No node_modules travel
 * with the charm.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigilError } from '@sigil/core';
import { writeSpec } from './codegen.ts';

export const ENTRY = 'src/charm.ts';
export const OUTPUT = 'dist/charm.mjs';
/** A build in progress writes `dist/charm.mjs.partial-<pid>` and renames it over the output. */
const PARTIAL = '.partial-';

/** Whether a file in a charm directory is a build's output still being written (never packed). */
export function isPartialBuild(name: string): boolean {
  return /\.partial-\d+$/.test(name);
}

/** A directory is a TypeScript charm when it has `src/charm.ts`. */
export function isSdkCharm(dir: string): boolean {
  return existsSync(join(dir, ENTRY));
}

/** The Sigil checkout this code runs from (where node_modules has esbuild and the SDK). */
export function sigilRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sigil') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Sigil installation (package.json named "sigil") above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

interface Esbuild {
  version: string;
  buildSync(options: Record<string, unknown>): { errors: { text: string; location?: { file: string; line: number; column: number } | null }[]; metafile?: { inputs: Record<string, unknown> } };
}

export interface BuildOptions {
  /**
   * Where to remember what each build read (issue 21): when every input file and the output
   * still have the size and mtime they had after the last build, the build is skipped, as
   * make would. Without it the charm is always built.
   */
  cacheDir?: string;
}

/** Bump when the build's options change: earlier records then no longer match. */
const BUILD_FORMAT = 1;
/** The stdin entry's name in esbuild's metafile: not a file on disk. */
const STDIN_NAME = 'dispatch-entry.ts';

interface Stamp {
  path: string;
  size: number;
  mtimeMs: number;
}

interface BuildRecord {
  key: string;
  output: Stamp;
  inputs: Stamp[];
}

function stamp(path: string): Stamp | undefined {
  try {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

const same = (a: Stamp | undefined, b: Stamp) => a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;

function recordPath(cacheDir: string, dir: string): string {
  return join(cacheDir, `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`);
}

/** Whether the last recorded build of `dir` is still what its inputs would produce. */
function upToDate(file: string, key: string): boolean {
  let rec: BuildRecord;
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as BuildRecord;
  } catch {
    return false;
  }
  return rec.key === key && same(stamp(rec.output.path), rec.output) && rec.inputs.length > 0 && rec.inputs.every((i) => same(stamp(i.path), i));
}

/** Synchronous so the CLI's charm reader can call it; esbuild takes tens of milliseconds. */
export function buildCharm(path: string, o: BuildOptions = {}): { entry: string; output: string; built: boolean } {
  const dir = resolve(path);
  writeSpec(dir);
  const root = sigilRoot();
  const output = join(dir, OUTPUT);
  const record = o.cacheDir === undefined ? undefined : recordPath(o.cacheDir, dir);
  const key = JSON.stringify([BUILD_FORMAT, root, dir]);
  if (record !== undefined && upToDate(record, key)) return { entry: join(dir, ENTRY), output, built: false };
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as Esbuild;
  let inputs: string[] = [];
  const started = Date.now();
  // Written beside the output and renamed over it: a deploy packing this charm meanwhile (or
  // another build of it) reads the old file or the new one, never a half-written one, which
  // would run as a charm that does nothing.
  const partial = `${output}${PARTIAL}${process.pid}`;
  try {
    const r = esbuild.buildSync({
      metafile: record !== undefined,
      stdin: { contents: `import charm from './${ENTRY}';\nawait charm.main();\n`, resolveDir: dir, sourcefile: STDIN_NAME, loader: 'ts' },
      outfile: partial,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Charms outside the Sigil tree still find the SDK and its dependencies.
      nodePaths: [join(root, 'node_modules')],
      alias: { '@sigil/charm-sdk': join(root, 'packages', 'charm-sdk', 'src', 'index.ts') },
      // CommonJS dependencies (yaml, …) call require(); an ES module has none of its own.
      banner: { js: "// Built by `sigil charm build`; edit src/ and rebuild.\nimport { createRequire as __sigilRequire } from 'node:module'; const require = __sigilRequire(import.meta.url);" },
      logLevel: 'silent',
      sourcemap: 'inline',
    });
    renameSync(partial, output);
    // Paths are relative to the working directory; the stdin entry is named as if in the charm.
    inputs = Object.keys(r.metafile?.inputs ?? {}).map((i) => resolve(i)).filter((i) => i !== join(dir, STDIN_NAME));
  } catch (e) {
    rmSync(partial, { force: true });
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new SigilError('invalid-charm', `cannot build charm at ${path}: ${where}${first?.text ?? (e as Error).message}`, `fix ${ENTRY} (its default export must be the Charm), then run \`sigil charm build\` again`);
  }
  if (record !== undefined) rememberBuild(record, key, started, output, [...inputs, join(dir, 'src', 'charm.gen.ts')]);
  return { entry: join(dir, ENTRY), output, built: true };
}

/**
 * Writes the build's record (atomically). An input that cannot be stamped, or that changed
 * while the build ran (the output may hold its older text), leaves none: the next call builds.
 */
function rememberBuild(file: string, key: string, started: number, output: string, inputs: string[]): void {
  const out = stamp(output);
  const stamps = [...new Set(inputs)].map(stamp);
  if (out === undefined || stamps.some((s) => s === undefined || s.mtimeMs > started)) return;
  const rec: BuildRecord = { key, output: out, inputs: stamps as Stamp[] };
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.${process.pid}`, JSON.stringify(rec));
    renameSync(`${file}.${process.pid}`, file);
  } catch {
    // A cache that cannot be written only costs the next build.
  }
}

/**
 * Builds a TypeScript charm: regenerates `src/charm.gen.ts` from the charm's YAML, then
 * bundles `src/charm.ts` (its default export is the Charm) with the SDK into one file,
 * `dist/charm.mjs`, that `dispatch` runs with the machine's Node. No node_modules travel
 * with the charm.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigilError } from '@sigil/core';
import { writeSpec } from './codegen.ts';

export const ENTRY = 'src/charm.ts';
export const OUTPUT = 'dist/charm.mjs';

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
  buildSync(options: Record<string, unknown>): { errors: { text: string; location?: { file: string; line: number; column: number } | null }[] };
}

/** Synchronous so the CLI's charm reader can call it; esbuild takes tens of milliseconds. */
export function buildCharm(path: string): { entry: string; output: string } {
  const dir = resolve(path);
  writeSpec(dir);
  const root = sigilRoot();
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as Esbuild;
  const output = join(dir, OUTPUT);
  try {
    esbuild.buildSync({
      stdin: { contents: `import charm from './${ENTRY}';\nawait charm.main();\n`, resolveDir: dir, sourcefile: 'dispatch-entry.ts', loader: 'ts' },
      outfile: output,
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
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new SigilError('invalid-charm', `cannot build charm at ${path}: ${where}${first?.text ?? (e as Error).message}`, `fix ${ENTRY} (its default export must be the Charm), then run \`sigil charm build\` again`);
  }
  return { entry: join(dir, ENTRY), output };
}

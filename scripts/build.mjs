// Builds the three runnable bundles (CLI, controller, agent) and the native hook-tool
// client. Bundling keeps process start-up short: `sigil status` must start in tens of ms.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
mkdirSync(out, { recursive: true });

const entries = {
  sigil: 'packages/cli/src/main.ts',
  controller: 'packages/controller/src/main.ts',
  agent: 'packages/agent/src/main.ts',
};

const result = await build({
  metafile: true,
  absWorkingDir: root,
  entryPoints: entries,
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // Shared code and lazily imported modules become chunks, so `sigil status` loads only
  // what it uses (CLI start-up is most of its cost).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // The CycloneDX library finds its schema files next to its own code (__dirname), so it is
  // loaded from node_modules, not bundled; only `sigil audit sbom` loads it.
  external: ['better-sqlite3', '@cyclonedx/cyclonedx-library'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
// Stale chunks go after the build, and only once they are old: a CLI or agent already
// running keeps finding the chunks it loads lazily while a rebuild happens.
const fresh = new Set(Object.keys(result.metafile.outputs).map((f) => join(root, f)));
for (const f of readdirSync(join(out, 'chunks'))) {
  const path = join(out, 'chunks', f);
  if (!fresh.has(path) && Date.now() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { force: true });
}

// The web GUI (packages/gui), served by the controller at /gui.
const { build: viteBuild } = await import('vite');
await viteBuild({ configFile: join(root, 'packages/gui/vite.config.ts'), logLevel: 'warn' });

// The hook-tool client is a tiny C program: one call must cost a few milliseconds, and a
// Node process per call costs 60-80 ms.
execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', join(out, 'sigil-hook-tool'), join(root, 'packages/agent/native/hook-tool.c')], { stdio: 'inherit' });

// TypeScript charms (src/charm.ts) in the charm library and the test charms: generated spec
// and bundle, built by the same code path `sigil charm build` and `sigil deploy` use.
for (const parent of ['charms', 'tests/charms', 'bench/charms']) {
  if (!existsSync(join(root, parent))) continue;
  for (const name of readdirSync(join(root, parent)).sort()) {
    const dir = join(root, parent, name);
    if (existsSync(join(dir, 'src', 'charm.ts'))) execFileSync(process.execPath, [join(out, 'sigil.mjs'), 'charm', 'build', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

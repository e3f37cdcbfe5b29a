// What one hook-tool call costs a hook: spawns `config-get` N times (default 500) through
// the C client against a real HookToolServer, the way a hook's shell does, and the same
// number of `/bin/true` as a baseline for the cost of spawning any process. Prints median
// and p99 for each, their ratio, and the bare socket round trip without a process.
//
//   npm run build && node bench/hook-tool.mjs [N]
//
// The server is bundled from source with esbuild into a temporary directory, so this
// script needs neither tsx nor vitest. If dist/sigil-hook-tool is missing the client is
// compiled with cc into the same directory.
import { build } from 'esbuild';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 500);
const WARMUP = 20;
const TARGET_MS = 5;
const work = mkdtempSync(join(tmpdir(), 'sigil-bench-hook-tool-'));

try {
  let binary = join(root, 'dist', 'sigil-hook-tool');
  if (!existsSync(binary)) {
    binary = join(work, 'sigil-hook-tool');
    console.log('dist/sigil-hook-tool not found (run `npm run build`); compiling it into a temporary directory');
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', binary, join(root, 'packages/agent/native/hook-tool.c')], { stdio: 'inherit' });
  }

  const bundle = join(work, 'server.mjs');
  await build({
    absWorkingDir: root,
    stdin: {
      contents: "export * from './packages/agent/src/hook-tools/server.ts'; export { emptyChanges } from './packages/agent/src/hook-tools/context.ts';",
      resolveDir: root,
      loader: 'ts',
    },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  const { HookToolServer, installToolLinks, encodeRequest, emptyChanges } = await import(pathToFileURL(bundle).href);

  const toolsDir = join(work, 'tools');
  await installToolLinks(toolsDir, binary);
  const socket = `@sigil-bench-${randomBytes(6).toString('hex')}`;
  const server = new HookToolServer(socket);
  await server.start();
  server.register('bench', benchEnv(emptyChanges()));

  const env = { PATH: `${toolsDir}:/usr/bin:/bin`, JUJU_AGENT_SOCKET_ADDRESS: socket, JUJU_CONTEXT_ID: 'bench' };
  const check = await spawnOnce('config-get', ['blog_title'], env);
  if (check.code !== 0 || check.stdout !== 'My Blog\n') throw new Error(`config-get failed: ${JSON.stringify(check)}`);

  const tool = await sample(() => spawnOnce('config-get', ['blog_title'], env));
  const baseline = await sample(() => spawnOnce('/bin/true', [], env));
  const roundTrip = await sampleRoundTrips(socket, encodeRequest({ contextId: 'bench', cwd: '/', command: 'config-get', args: ['blog_title'], stdin: undefined }));
  await server.close();

  const row = (name, xs) => `${name.padEnd(34)} median ${fmt(percentile(xs, 50))}  p99 ${fmt(percentile(xs, 99))}`;
  console.log(`hook-tool benchmark: ${N} calls each, after ${WARMUP} warm-up calls (node ${process.version})`);
  console.log(row('config-get (spawn + socket + tool)', tool));
  console.log(row('/bin/true (spawn only)', baseline));
  console.log(row('socket round trip (no spawn)', roundTrip));
  const ratio = percentile(tool, 50) / percentile(baseline, 50);
  console.log(`ratio config-get / true (median): ${ratio.toFixed(2)}x`);
  const verdict = percentile(tool, 50) < TARGET_MS ? 'met' : 'MISSED';
  console.log(`target: config-get median under ${TARGET_MS} ms: ${verdict}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Runs `fn` WARMUP times, then N times, and returns the N durations in ms. */
async function sample(fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times = [];
  for (let i = 0; i < N; i++) times.push((await fn()).ms);
  return times;
}

function spawnOnce(command, args, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
  });
}

/** One connection per call, as the client does, but without a process. */
async function sampleRoundTrips(socket, frame) {
  const once = () =>
    new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const conn = createConnection(socket.replace(/^@/, '\0'));
      let got = Buffer.alloc(0);
      conn.on('error', reject);
      conn.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
          conn.destroy();
          resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6 });
        }
      });
      conn.write(frame);
    });
  return sample(once);
}

function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function fmt(ms) {
  return `${ms.toFixed(2).padStart(6)} ms`;
}

/** A hook context with a realistic amount of data; config-get reads one option. */
function benchEnv(changes) {
  const relations = {};
  for (let id = 0; id < 5; id++) {
    relations[id] = {
      id,
      endpoint: `ep${id}`,
      interface: 'http',
      role: 'requirer',
      remoteApp: `remote${id}`,
      members: [`remote${id}/0`, `remote${id}/1`],
      unitData: { 'app/0': { 'private-address': '10.0.0.5' }, [`remote${id}/0`]: { host: '10.0.0.9' } },
      appData: {},
    };
  }
  const config = { blog_title: 'My Blog' };
  for (let i = 0; i < 50; i++) config[`option-${i}`] = i % 2 === 0 ? `value ${i}` : i;
  const status = { status: 'active', message: '' };
  return {
    snapshot: {
      unit: 'app/0',
      app: 'app',
      leader: true,
      modelName: 'bench',
      modelUuid: '00000000-0000-4000-8000-000000000000',
      machineId: '0',
      privateAddress: '10.0.0.5',
      publicAddress: '10.0.0.5',
      config,
      relations,
      leaderSettings: {},
      unitState: {},
      unitStatus: status,
      appStatus: status,
      appUnitStatuses: { 'app/0': status },
      openedPorts: [],
    },
    changes,
    log: () => {},
    actionLog: () => {},
  };
}

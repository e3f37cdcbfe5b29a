import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import YAML from 'yaml';
import { SigilError } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { collectAll, resultLine } from '../collect/collect.ts';
import { parseCollectConfig } from '../collect/config.ts';
import type { PlannedPhase, SpecPlan } from './plan.ts';
import { resolveBundle } from './bundle-paths.ts';

/** A spec run's workspace: Mojo's layout, under `$SIGIL_HOME/specs/<project>/<stage>/`. */
export interface Workspace {
  dir: string;
  /** Where `collect` phases put what they collect (Mojo's build and repo directory). */
  build: string;
  /** The stage's secrets, copied in by `secrets` (mode 0700, files 0600). */
  local: string;
  /** Bundles rewritten with absolute charm paths. */
  bundles: string;
  /** `sigil` for scripts, first on their PATH. */
  bin: string;
}

export function workspaceAt(dir: string): Workspace {
  return { dir, build: join(dir, 'build'), local: join(dir, 'local'), bundles: join(dir, 'bundles'), bin: join(dir, '.bin') };
}

export interface RunContext {
  ctx: Ctx;
  plan: SpecPlan;
  ws: Workspace;
  project: string;
  model: string;
  /** Where the stage's secrets live on this host (never inside the spec). */
  secretsDir: string;
  client: () => Client;
  env: Readonly<Record<string, string | undefined>>;
  dryRun: boolean;
  /** The command that runs this sigil, for scripts' PATH. */
  sigilCommand: string[];
  /** Waits `ms` (tests may shorten it); resolves early when the run is aborted. */
  sleep: (ms: number) => Promise<void>;
}

export type PhaseOutcome = { result: 'ok' | 'dry run' | 'nothing to do'; note?: string };

function fail(p: PlannedPhase, message: string, hint: string, code: SigilError['code'] = 'conflict'): SigilError {
  return new SigilError(code, `${p.at}: ${p.phase}: ${message}`, hint);
}

function rel(r: RunContext, file: string): string {
  return relative(r.plan.root, file);
}

async function collect(r: RunContext, p: PlannedPhase): Promise<PhaseOutcome> {
  const directives = parseCollectConfig(readFileSync(p.file!, 'utf8'), rel(r, p.file!), r.env);
  const results = await collectAll(directives, r.ws.build, { baseDir: dirname(p.file!), onResult: (x) => r.ctx.info(`  ${resultLine(x)}`) });
  const failed = results.filter((x) => x.status === 'failed');
  if (failed.length > 0) {
    throw fail(p, `${failed.length} of ${results.length} directive${results.length === 1 ? '' : 's'} failed:\n  ${failed.map((x) => x.error!.message).join('\n  ')}`, `${failed[0]!.error!.hint ?? 'fix the directive'}; what was collected stays in ${r.ws.build}`);
  }
  writeFileSync(join(r.ws.dir, 'collected.pinned'), results.map((x) => `${x.directive.dest} ${x.pinned ?? x.directive.url}`).join('\n') + '\n');
  return { result: 'ok', note: `${results.length} collected into ${relative(r.ws.dir, r.ws.build)}/` };
}

/**
 * Copies the stage's secrets into the workspace. The secrets directory is refused when it lies
 * inside the spec (secrets never travel with it); links are refused; files get mode 0600.
 * Values are never printed: only how many files were copied.
 */
export function copySecrets(r: Pick<RunContext, 'secretsDir' | 'ws' | 'plan'>, p: Pick<PlannedPhase, 'at' | 'phase'>): number {
  const src = r.secretsDir;
  if (!existsSync(src)) {
    throw new SigilError('not-found', `${p.at}: ${p.phase}: no secrets for this stage at ${src}`, `create it (mkdir -p ${src}; chmod 700 ${src}) and put the stage's secret files there, e.g. deploy-secrets`);
  }
  const real = realpathSync(src);
  if (real === r.plan.root || real.startsWith(r.plan.root + sep)) throw new SigilError('bad-request', `${p.at}: ${p.phase}: the secrets directory ${src} is inside the spec`, 'keep secrets outside the spec, in $SIGIL_HOME/secrets/<project>/<stage>');
  mkdirSync(r.ws.local, { recursive: true, mode: 0o700 });
  chmodSync(r.ws.local, 0o700);
  let n = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const to = join(r.ws.local, relative(real, full));
      const st = lstatSync(full);
      if (st.isSymbolicLink()) throw new SigilError('bad-request', `${p.at}: ${p.phase}: ${relative(real, full)} in the secrets is a symlink`, 'secrets are regular files; copy the file there instead of linking to it');
      if (st.isDirectory()) {
        mkdirSync(to, { recursive: true, mode: 0o700 });
        walk(full);
      } else if (st.isFile()) {
        copyFileSync(full, to);
        chmodSync(to, 0o600);
        n++;
      }
    }
  };
  walk(real);
  return n;
}

async function bundle(r: RunContext, p: PlannedPhase): Promise<PhaseOutcome> {
  const tag = String(p.n).padStart(2, '0');
  const path = resolveBundle(p.file!, r.ws.build, r.ws.bundles, tag);
  const overlays = p.overlays.map((o, i) => resolveBundle(o, r.ws.build, r.ws.bundles, `${tag}-overlay${i + 1}`));
  if (p.options.local !== undefined) {
    // As Mojo has since 2016, a secrets file named by local= pulls the stage's secrets in.
    if (!existsSync(join(r.ws.local, p.options.local))) copySecrets(r, p);
    const secret = join(r.ws.local, p.options.local);
    if (!existsSync(secret)) throw fail(p, `the secrets file "${p.options.local}" is not among the stage's secrets`, `put it at ${join(r.secretsDir, p.options.local)}`, 'not-found');
    overlays.push(resolveBundle(secret, r.ws.build, r.ws.bundles, `${tag}-local`));
  }
  const { deployBundle } = await import('../commands/bundle.ts');
  // The plan names option values; those that come from the secrets file are shown masked.
  const ctx = p.options.local === undefined ? r.ctx : redacting(r.ctx, secretValues(join(r.ws.local, p.options.local)));
  await deployBundle(ctx, r.client(), path, { overlay: overlays, dryRun: r.dryRun, progress: true, wait: p.wait !== false, timeout: `${p.seconds ?? 600}s` });
  return { result: r.dryRun ? 'dry run' : 'ok' };
}

/** Every scalar value in a secrets overlay (three characters or more), to be masked wherever output would show it. */
export function secretValues(file: string): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') {
      const s = String(v);
      if (s.length >= 3) {
        out.add(s);
        out.add(JSON.stringify(s).slice(1, -1));
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  try {
    walk(YAML.parse(readFileSync(file, 'utf8')));
  } catch {
    // An unreadable overlay fails the deploy with its own error; nothing to mask before that.
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** A Ctx that prints through `ctx` with every secret value replaced by `***`. */
export function redacting(ctx: Ctx, secrets: readonly string[]): Ctx {
  const mask = (t: string) => secrets.reduce((acc, s) => acc.split(s).join('***'), t);
  const c = Object.create(ctx) as Ctx;
  c.out = (t: string) => ctx.out(mask(t));
  c.info = (t: string) => ctx.info(mask(t));
  return c;
}

/** The environment a script sees: Sigil's names, Mojo's as aliases, the line's KEY=VALUEs, and `sigil` first on PATH. */
export function scriptEnv(r: Pick<RunContext, 'plan' | 'ws' | 'model' | 'project' | 'env'>, p: Pick<PlannedPhase, 'env'>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.env)) if (v !== undefined) base[k] = v;
  const stageDir = r.plan.stageDir;
  const named: Record<string, string> = {
    SIGIL_SPEC_DIR: r.plan.root,
    SIGIL_STAGE: r.plan.stage,
    SIGIL_STAGE_DIR: stageDir,
    SIGIL_LOCAL_DIR: r.ws.local,
    SIGIL_WORKSPACE: r.ws.dir,
    SIGIL_BUILD_DIR: r.ws.build,
    SIGIL_MODEL: r.model,
    SIGIL_PROJECT: r.project,
  };
  const mojo: Record<string, string> = {
    MOJO_SPEC_DIR: r.plan.root,
    MOJO_STAGE: r.plan.stage,
    MOJO_LOCAL_DIR: r.ws.local,
    MOJO_WORKSPACE: r.ws.dir,
    MOJO_WORKSPACE_DIR: r.ws.dir,
    MOJO_BUILD_DIR: r.ws.build,
    MOJO_REPO_DIR: r.ws.build,
    MOJO_PROJECT: r.project,
  };
  return { ...base, ...mojo, ...named, ...p.env, PATH: `${r.ws.bin}:${base.PATH ?? '/usr/bin:/bin'}` };
}

function writeSigilShim(r: RunContext): void {
  mkdirSync(r.ws.bin, { recursive: true });
  const quoted = r.sigilCommand.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(' ');
  writeFileSync(join(r.ws.bin, 'sigil'), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
}

/** Runs a spec executable, printing its output as it comes; resolves with its exit code and last lines. */
function runScript(r: RunContext, p: PlannedPhase): Promise<{ code: number; tail: string[] }> {
  writeSigilShim(r);
  return new Promise((resolve, reject) => {
    const child = spawn(p.file!, [], { cwd: r.plan.stageDir, env: scriptEnv(r, p), stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const partial = { out: '', err: '' };
    const take = (which: 'out' | 'err', chunk: Buffer) => {
      const text = partial[which] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial[which] = lines.pop()!;
      for (const l of lines) {
        r.ctx.info(`  | ${l}`);
        tail.push(l);
        if (tail.length > 30) tail.shift();
      }
    };
    child.stdout.on('data', (c: Buffer) => take('out', c));
    child.stderr.on('data', (c: Buffer) => take('err', c));
    child.on('error', (e) => reject(fail(p, `cannot run ${rel(r, p.file!)}: ${e.message}`, 'give the script a #! line (e.g. #!/bin/sh) and make it executable', 'bad-request')));
    child.on('close', (code, signal) => {
      for (const w of ['out', 'err'] as const) if (partial[w] !== '') take(w, Buffer.from('\n'));
      resolve({ code: code ?? (signal ? 128 : 1), tail });
    });
  });
}

async function script(r: RunContext, p: PlannedPhase): Promise<PhaseOutcome> {
  if (r.dryRun) return { result: 'dry run', note: `would run ${rel(r, p.file!)}` };
  const attempts = p.phase === 'verify' ? (p.retry ?? 1) : 1;
  let last = { code: 0, tail: [] as string[] };
  for (let i = 1; i <= attempts; i++) {
    last = await runScript(r, p);
    if (last.code === 0) return { result: 'ok', ...(i > 1 ? { note: `passed on attempt ${i} of ${attempts}` } : {}) };
    if (i < attempts) {
      r.ctx.info(`  ${rel(r, p.file!)} exited with ${last.code}; attempt ${i + 1} of ${attempts} in ${p.seconds ?? 5}s`);
      await r.sleep((p.seconds ?? 5) * 1000);
    }
  }
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  throw fail(p, `${rel(r, p.file!)} exited with ${last.code}${tries}; its last output:\n    ${last.tail.slice(-15).join('\n    ') || '(none)'}`, p.phase === 'verify' ? `the check's output says what is wrong; fix it, then run the phase again with --phase ${p.n}` : `fix the script, then run the phase again with --phase ${p.n}`);
}

async function wait(r: RunContext, p: PlannedPhase): Promise<PhaseOutcome> {
  if (r.dryRun) return { result: 'dry run' };
  const { followUntilSettled } = await import('../bundle/progress.ts');
  const { report, seconds } = await followUntilSettled(r.client(), [], (p.seconds ?? 600) * 1000, 'changes', (l) => r.ctx.info(`  ${l}`));
  if (report.errors.length > 0) throw fail(p, `units in error:\n  ${report.errors.map((e) => `${e.unit}: ${e.message}`).join('\n  ')}`, `fix the cause, then \`sigil resolve ${report.errors[0]!.unit}\``);
  if (!report.settled) throw fail(p, `the model did not settle within ${p.seconds}s; still busy:\n  ${report.busy.map((b) => `${b.unit}: ${b.reason}`).join('\n  ')}`, 'give it longer with timeout=, or see `sigil status`', 'timeout');
  return { result: 'ok', note: `settled in ${seconds.toFixed(1)}s` };
}

export async function runPhase(r: RunContext, p: PlannedPhase): Promise<PhaseOutcome> {
  switch (p.phase) {
    case 'collect':
      return collect(r, p);
    case 'secrets': {
      const n = copySecrets(r, p);
      return { result: 'ok', note: `${n} secret file${n === 1 ? '' : 's'} copied (values not shown)` };
    }
    case 'bundle':
    case 'deploy':
      return bundle(r, p);
    case 'script':
    case 'verify':
      return script(r, p);
    case 'wait':
    case 'juju-check-wait':
      return wait(r, p);
    case 'sleep':
      if (r.dryRun) return { result: 'dry run' };
      await r.sleep((p.seconds ?? 0) * 1000);
      return { result: 'ok' };
    case 'repo':
      return { result: 'nothing to do', note: 'bundles deploy charms straight from the collected tree' };
    default:
      throw fail(p, 'this phase cannot run here', 'this is a bug in sigil', 'internal');
  }
}

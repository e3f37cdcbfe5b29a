import { accessSync, constants, existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SigilError, parseDuration } from '@sigil/core';
import { parseCollectConfig } from '../collect/config.ts';
import { PHASES, parseManifest, type ManifestLine } from './manifest.ts';

/**
 * Turns a spec directory, a stage and a manifest name into the list of phases to run, with
 * every file each phase reads already found and checked. Nothing is run and nothing written:
 * a spec with a mistake anywhere (an unknown phase, a missing file, a script that cannot be
 * run) is refused before its first phase touches the model.
 */

export interface PlannedPhase {
  /** 1-based position in the expanded plan (includes flattened). */
  n: number;
  phase: string;
  /** `manifest:7`, relative to the spec, with the chain of includes that led here. */
  at: string;
  options: Record<string, string>;
  env: Record<string, string>;
  /** The file the phase reads (config=), found in the stage directory first, then the spec root. */
  file?: string;
  /** The stage pattern of a stop-on phase. */
  pattern?: string;
  /** Overlays (overlay=) found the same way. */
  overlays: string[];
  /** Seconds: sleep's config, verify's sleep, wait's and bundle's timeout. */
  seconds?: number;
  retry?: number;
  wait?: boolean;
}

export interface SpecPlan {
  root: string;
  stage: string;
  stageDir: string;
  manifest: string;
  phases: PlannedPhase[];
  /** Where a stop-on cut the plan short, if one did. */
  stoppedAt?: string;
}

export interface PlanInput {
  root: string;
  stage: string;
  manifest?: string;
  env: Readonly<Record<string, string | undefined>>;
}

const MAX_INCLUDE_DEPTH = 10;

function fail(at: string, phase: string | undefined, message: string, hint: string): SigilError {
  return new SigilError('bad-request', `${at}: ${phase ? `${phase}: ` : ''}${message}`, hint);
}

/** Checks a stage path: relative, inside the spec, no `..`. */
export function checkStage(stage: string): string {
  const parts = stage.split('/').filter((p) => p !== '' && p !== '.');
  if (stage.startsWith('/') || parts.includes('..') || parts.length === 0) {
    throw new SigilError('bad-request', `stage "${stage}" is not a stage path`, 'a stage is a directory of the spec, e.g. `devel` or `web/production`');
  }
  return parts.join('/');
}

/** The stage directories of a spec (directories holding a manifest or other files), for hints. */
export function stagesOf(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(d, name);
      if (!statSync(full).isDirectory()) continue;
      out.push(relative(root, full).split(sep).join('/'));
      if (depth < 2) walk(full, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** A real path inside the spec, or an error: links may not lead a spec's files out of the spec. */
function inside(root: string, path: string, at: string, phase: string): string {
  const real = realpathSync(path);
  if (real !== root && !real.startsWith(root + sep)) throw fail(at, phase, `${relative(root, path)} leads outside the spec (to ${real})`, 'every file a spec reads must be inside the spec');
  return real;
}

/** Finds `name` in the stage directory, then the spec root (Mojo's lookup); undefined when in neither. */
export function lookup(root: string, stageDir: string, name: string, at: string, phase: string): string | undefined {
  if (name.startsWith('/') || name.split('/').includes('..')) throw fail(at, phase, `"${name}" is not a path inside the spec`, 'name files relative to the stage directory or the spec root, without ".."');
  for (const dir of [stageDir, root]) {
    const p = join(dir, name);
    if (existsSync(p)) return inside(root, p, at, phase);
  }
  return undefined;
}

function seconds(v: string, at: string, phase: string, key: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  try {
    return parseDuration(v) / 1000;
  } catch {
    throw fail(at, phase, `${key}=${v} is not a duration`, `give seconds (${key}=300) or a duration (${key}=5m)`);
  }
}

function bool(v: string, at: string, phase: string, key: string): boolean {
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw fail(at, phase, `${key}=${v} is not True or False`, `write ${key}=True or ${key}=False`);
}

// `*` matches within a path component, `**` across them (`stop-on web/*` stops web/production).
export function stageMatches(pattern: string, stage: string): boolean {
  const re = pattern.split('**').map((p) => p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*');
  return new RegExp(`^${re}$`).test(stage);
}

function checkFile(root: string, stageDir: string, l: ManifestLine, at: string, name: string): string {
  const found = lookup(root, stageDir, name, at, l.phase);
  const stageRel = relative(root, stageDir) || '.';
  if (found === undefined) throw fail(at, l.phase, `config file "${name}" not found`, `looked in ${join(stageRel, name)} and ${name} in the spec; check the name, or add the file`);
  return found;
}

function planLine(root: string, stageDir: string, l: ManifestLine, at: string, env: PlanInput['env']): Omit<PlannedPhase, 'n'> {
  const spec = PHASES[l.phase]!;
  const p: Omit<PlannedPhase, 'n'> = { phase: l.phase, at, options: l.options, env: l.env, overlays: [] };
  const config = l.options.config ?? spec.defaultConfig;
  switch (l.phase) {
    case 'collect':
    case 'bundle':
    case 'deploy':
    case 'include':
      if (config === undefined) throw fail(at, l.phase, 'config= is required', `e.g. ${l.phase} config=${l.phase === 'include' ? 'manifest-common' : 'bundle.yaml'}`);
      p.file = checkFile(root, stageDir, l, at, config);
      if (!statSync(p.file).isFile()) throw fail(at, l.phase, `"${config}" is a directory`, 'give a file');
      // A malformed Codetree line stops the spec before anything is collected.
      if (l.phase === 'collect') {
        try {
          parseCollectConfig(readFileSync(p.file, 'utf8'), relative(root, p.file), env);
        } catch (e) {
          if (e instanceof SigilError) throw fail(at, l.phase, e.message, e.hint ?? 'fix the collect config');
          throw e;
        }
      }
      break;
    case 'script':
    case 'verify': {
      if (config === undefined) throw fail(at, l.phase, 'config= is required', `e.g. ${l.phase} config=check.sh`);
      p.file = checkFile(root, stageDir, l, at, config);
      if (!statSync(p.file).isFile()) throw fail(at, l.phase, `"${config}" is a directory`, 'give an executable file');
      try {
        accessSync(p.file, constants.X_OK);
      } catch {
        throw fail(at, l.phase, `"${config}" is not executable`, `make it executable: chmod +x ${relative(process.cwd(), p.file)}, and give it a #! line`);
      }
      break;
    }
    case 'sleep':
      if (config === undefined) throw fail(at, l.phase, 'config= (seconds) is required', 'e.g. sleep config=30');
      p.seconds = seconds(config, at, l.phase, 'config');
      break;
    case 'stop-on':
      p.pattern = l.args[0] ?? l.options.config!;
      break;
  }
  if (l.phase === 'bundle' || l.phase === 'deploy') {
    p.wait = l.options.wait === undefined ? true : bool(l.options.wait, at, l.phase, 'wait');
    p.seconds = seconds(l.options.timeout ?? '10m', at, l.phase, 'timeout');
    if (l.options.overlay !== undefined) p.overlays = l.options.overlay.split(',').filter(Boolean).map((o) => checkFile(root, stageDir, l, at, o));
    if (l.options.local !== undefined && (l.options.local.startsWith('/') || l.options.local.split('/').includes('..') || l.options.local === '')) {
      throw fail(at, l.phase, `local=${l.options.local} is not a file name in the stage's secrets`, 'name a file in $SIGIL_HOME/secrets/<project>/<stage>, e.g. local=deploy-secrets');
    }
  }
  if (l.phase === 'wait' || l.phase === 'juju-check-wait') p.seconds = seconds(l.options.timeout ?? '10m', at, l.phase, 'timeout');
  if (l.phase === 'verify') {
    const retry = l.options.retry ?? '1';
    if (!/^[1-9]\d*$/.test(retry)) throw fail(at, l.phase, `retry=${retry} is not a positive whole number`, 'retry=N runs the check up to N times');
    p.retry = Number(retry);
    p.seconds = seconds(l.options.sleep ?? '5', at, l.phase, 'sleep');
  }
  if (l.phase === 'script' && l.options.lxc !== undefined && bool(l.options.lxc, at, l.phase, 'lxc')) {
    throw fail(at, l.phase, 'lxc=True is not supported', 'Sigil runs scripts on this host, as Mojo does with lxc=False; drop the option');
  }
  return p;
}

/** Plans a run: finds the manifest (the stage's wins over the root's), flattens includes, checks every phase. */
export function planSpec(i: PlanInput): SpecPlan {
  const root = realpathSync(i.root);
  const stage = checkStage(i.stage);
  const stageDir = join(root, stage);
  if (!existsSync(stageDir) || !statSync(stageDir).isDirectory()) {
    const known = stagesOf(root);
    throw new SigilError('not-found', `the spec has no stage "${stage}"`, known.length ? `stages are directories of the spec: ${known.join(', ')}` : 'create a directory for the stage in the spec');
  }
  inside(root, stageDir, stage, 'stage');
  const name = i.manifest ?? 'manifest';
  const manifest = lookup(root, stageDir, name, name, 'manifest');
  if (manifest === undefined) throw new SigilError('not-found', `no manifest "${name}" in ${stage}/ or at the spec root`, `write one phase per line into ${stage}/${name} or ${name}, e.g. \`collect config=collect\``);
  const phases: PlannedPhase[] = [];
  let stoppedAt: string | undefined;
  const walk = (file: string, chain: string[]) => {
    const rel = relative(root, file);
    if (chain.length > MAX_INCLUDE_DEPTH) throw fail(chain[chain.length - 1]!, 'include', `includes nest deeper than ${MAX_INCLUDE_DEPTH}`, 'an include probably includes itself');
    for (const l of parseManifest(readFileSync(file, 'utf8'), rel, i.env)) {
      if (stoppedAt !== undefined) return;
      const at = [...chain, `${rel}:${l.line}`].join(' > ');
      const p = planLine(root, stageDir, l, at, i.env);
      if (p.phase === 'include') {
        if (chain.some((c) => c.startsWith(`${relative(root, p.file!)}:`)) || relative(root, p.file!) === rel) throw fail(at, 'include', `${relative(root, p.file!)} includes itself`, 'remove the include loop');
        walk(p.file!, [...chain, `${rel}:${l.line}`]);
      } else if (p.phase === 'stop-on') {
        if (stageMatches(p.pattern!, stage)) stoppedAt = at;
        else phases.push({ ...p, n: phases.length + 1 });
      } else phases.push({ ...p, n: phases.length + 1 });
    }
  };
  walk(manifest, []);
  return { root, stage, stageDir, manifest: relative(root, manifest), phases, ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
}

/** The plan as a reader checks it before a run: one line per phase with what it reads. */
export function renderPlan(p: SpecPlan): string {
  const lines = p.phases.map((ph) => {
    const what = ph.file !== undefined ? ` ${relative(p.root, ph.file)}` : ph.pattern !== undefined ? ` ${ph.pattern}` : ph.seconds !== undefined && ph.phase === 'sleep' ? ` ${ph.seconds}s` : '';
    const extra = [...Object.entries(ph.options).filter(([k]) => k !== 'config').map(([k, v]) => `${k}=${v}`), ...Object.keys(ph.env).map((k) => `${k}=…`)];
    return `${String(ph.n).padStart(3)}. ${ph.phase}${what}${extra.length ? ` (${extra.join(' ')})` : ''}   [${ph.at}]`;
  });
  const stop = p.stoppedAt ? [`     stop-on at ${p.stoppedAt}: the stage "${p.stage}" matches, the manifest ends here`] : [];
  return [`Spec ${p.root}, stage ${p.stage}, manifest ${p.manifest}: ${p.phases.length} phase${p.phases.length === 1 ? '' : 's'}`, ...lines, ...stop].join('\n');
}

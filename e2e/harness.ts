import { execFile, type ExecFileException } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '@sigil/core';
import type { ModelStatusDoc } from '@sigil/api';
import YAML from 'yaml';
import { canRun } from '../tests/ci.ts';
import { Client } from '../packages/cli/src/client.ts';
import { Home } from '../packages/cli/src/home.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CHARMS = join(ROOT, 'tests', 'charms');
const BIN = join(ROOT, 'bin', 'sigil');

export interface Run {
  code: number;
  /** The signal that ended the CLI when something other than the harness killed it. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SigilOpts {
  input?: string;
  /**
   * How long the harness lets the CLI run before it kills it. By default, a command with
   * its own deadline (`--timeout`, or `run --wait`) gets that deadline plus CLI_GRACE_MS,
   * so the CLI reports what it was still waiting for before the harness steps in; any
   * other command gets DEFAULT_TIMEOUT_MS.
   */
  timeoutMs?: number;
  /** Another SIGIL_HOME than the run's shared one (a suite with controllers of its own). */
  home?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
/** Time the CLI gets past its own deadline to say what it was waiting for, on a loaded machine. */
const CLI_GRACE_MS = 20_000;
/** How much of a killed command's output a harness timeout shows. */
const OUTPUT_TAIL = 4000;

/** The value of `--flag v` or `--flag=v` among the CLI's own options (not after `--`). */
function option(args: string[], names: string[]): string | undefined {
  const end = args.indexOf('--');
  const own = end === -1 ? args : args.slice(0, end);
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (names.includes(a)) return own[i + 1];
    const eq = names.find((n) => n.startsWith('--') && a.startsWith(`${n}=`));
    if (eq) return a.slice(eq.length + 1);
  }
  return undefined;
}

function has(args: string[], flag: string): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes(flag);
}

/** `sigil wait` and `sigil deploy BUNDLE` follow the model until it settles, which can take minutes. */
function waitsToSettle(args: string[]): boolean {
  if (args[0] === 'wait') return true;
  return args[0] === 'deploy' && /\.ya?ml$/i.test(args[1] ?? '') && !has(args, '--no-wait') && !has(args, '--dry-run');
}

/** The CLI's own deadline for this command, when the command line gives one. */
function cliDeadlineMs(args: string[]): number | undefined {
  const text = args[0] === 'run' ? option(args, ['--wait']) : option(args, ['--timeout']);
  return text === undefined ? undefined : parseDuration(text);
}

function harnessTimeoutMs(args: string[], opts: SigilOpts): number {
  if (opts.timeoutMs !== undefined) return opts.timeoutMs;
  const deadline = cliDeadlineMs(args);
  if (deadline !== undefined) return deadline + CLI_GRACE_MS;
  if (waitsToSettle(args)) {
    // The CLI's default deadline (10 minutes) outlasts every test timeout: vitest would kill
    // the test first and nobody would learn what the model was still doing.
    throw new Error(`harness: \`sigil ${args.join(' ')}\` waits for the model to settle; give it --timeout (or deploy with --no-wait and follow with \`sigil wait --timeout …\`)`);
  }
  return DEFAULT_TIMEOUT_MS;
}

interface Raw extends Run {
  killedByHarness: boolean;
}

/** Runs the CLI binary once; kills it (TERM, then KILL) when it outlives `timeoutMs`. */
function runCli(args: string[], input: string | undefined, timeoutMs: number, home?: string): Promise<Raw> {
  return new Promise((resolve) => {
    let killedByHarness = false;
    let hardKill: NodeJS.Timeout | undefined;
    const child = execFile(BIN, args, { env: home === undefined ? process.env : { ...process.env, SIGIL_HOME: home }, maxBuffer: 64 * 1024 * 1024 }, (err: ExecFileException | null, stdout, stderr) => {
      clearTimeout(deadline);
      clearTimeout(hardKill);
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, signal: killedByHarness ? null : (err?.signal ?? null), stdout, stderr, killedByHarness });
    });
    const deadline = setTimeout(() => {
      killedByHarness = true;
      child.kill('SIGTERM');
      hardKill = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, timeoutMs);
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** The model a command line names with `-m`/`--model`, if any. */
function modelOf(args: string[]): string | undefined {
  return option(args, ['-m', '--model']);
}

const tail = (text: string) => (text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text);
const indent = (text: string) => (text.trim() === '' ? '  (nothing)' : text.trimEnd().replace(/^/gm, '  '));

/** What a test needs to see when the harness had to kill the CLI: the command, its output so far, the model's state. */
async function killedReport(args: string[], r: Raw, timeoutMs: number): Promise<string> {
  const model = modelOf(args);
  let state: string;
  if (model === undefined) state = '(the command names no model with -m)';
  else if (args[0] === 'status') state = '(the command was itself sigil status)';
  else {
    const s = await runCli(['status', '-m', model], undefined, 30_000);
    state = s.killedByHarness ? '(sigil status did not answer within 30 s either)' : tail(s.stdout + s.stderr);
  }
  return [
    `sigil ${args.join(' ')} killed after ${Number((timeoutMs / 1000).toFixed(1))} s by the test harness (it had not finished; raise its timeoutMs or the command's --timeout if it needs longer)`,
    `stderr so far:\n${indent(tail(r.stderr))}`,
    `stdout so far:\n${indent(tail(r.stdout))}`,
    ...(model === undefined ? [state] : [`sigil status -m ${model} at that moment:\n${indent(state)}`]),
  ].join('\n');
}

/**
 * Runs the real CLI binary against the shared test controller (SIGIL_HOME from global setup).
 * A run the harness had to kill is never an outcome a test can assert on, so it throws,
 * saying so, instead of returning an exit code.
 */
export async function sigil(args: string[], opts: SigilOpts = {}): Promise<Run> {
  const timeoutMs = harnessTimeoutMs(args, opts);
  const r = await runCli(args, opts.input, timeoutMs, opts.home);
  if (r.killedByHarness) throw new Error(await killedReport(args, r, timeoutMs));
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Like `sigil` but fails the test with the CLI's own output when the command fails. */
export async function ok(args: string[], opts: SigilOpts = {}): Promise<string> {
  const r = await sigil(args, opts);
  if (r.code !== 0) throw new Error(`sigil ${args.join(' ')} ${r.signal ? `was killed by ${r.signal}` : `exited ${r.code}`}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function status(model: string, opts: SigilOpts = {}): Promise<ModelStatusDoc> {
  return JSON.parse(await ok(['status', '-m', model, '--format', 'json'], opts)) as ModelStatusDoc;
}

/**
 * Waits until `pred` holds for the model's status. The status is read in this process (not
 * by a CLI run per look, which cost a busy 2-core runner a large share of its CPU) whenever
 * the change feed reports a change, and at least every 2 s for what no change announces (an
 * agent's presence, time passing). On timeout it shows the last status and the model log.
 */
export async function until(model: string, what: string, pred: (s: ModelStatusDoc) => boolean, timeoutMs = 30_000): Promise<ModelStatusDoc> {
  const deadline = Date.now() + timeoutMs;
  const stop = new AbortController();
  let wake = () => {};
  let changed = false;
  let feed: Promise<void> | undefined;
  let last: ModelStatusDoc | undefined;
  // Bounded by the deadline: a stopped controller must not carry the wait past it.
  const read = async (c: Client) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        c.call('GET /api/models/:model/status'),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer before the deadline')), Math.max(0, deadline - Date.now())))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    while (Date.now() < deadline) {
      // Opened each time round: a controller entry may appear only later (a bootstrap).
      const c = await Promise.resolve().then(() => Client.open(new Home(), model)).catch(() => undefined);
      if (c) {
        changed = false;
        last = await read(c).catch(() => last);
        if (last && pred(last)) return last;
        // From the first look that fails; again after a controller restart cut it. A change
        // between the read and the feed opening is caught by the 2 s look.
        feed ??= c.watch(() => {
          changed = true;
          wake();
          return false;
        }, -1, stop.signal).catch(() => undefined).finally(() => (feed = undefined));
      }
      // Bursts of changes (a deploy's status reports) coalesce into one read per 250 ms.
      await new Promise((r) => setTimeout(r, 250));
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(2000, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => {};
    }
  } finally {
    stop.abort();
  }
  const log = await sigil(['debug-log', '-m', model, '--replay', '--no-tail', '-l', 'INFO']);
  throw new Error(`timed out waiting for ${what}\nstatus: ${JSON.stringify(last, null, 1)}\nlog:\n${log.stdout.split('\n').slice(-40).join('\n')}`);
}

/**
 * Calls `probe` until it returns something other than undefined, and returns that; a probe
 * that throws counts as "not yet". On timeout the error names `what` and the last thing seen.
 */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `; last error: ${last instanceof Error ? last.message : String(last)}` : ''}`);
}

export function unit(s: ModelStatusDoc, name: string) {
  const app = s.applications[name.split('/')[0]!];
  const direct = app?.units?.[name];
  if (direct) return direct;
  for (const a of Object.values(s.applications)) {
    for (const u of Object.values(a.units ?? {})) {
      const sub = u.subordinates?.[name];
      if (sub) return sub;
    }
  }
  return undefined;
}

export function workload(s: ModelStatusDoc, name: string): string {
  const u = unit(s, name);
  return u ? `${u['workload-status'].current} ${u['workload-status'].message ?? ''}`.trim() : '(missing)';
}

/** The hooks a test charm unit recorded, in order (the charms append to ../hooks.log). */
export async function hooks(model: string, name: string): Promise<string[]> {
  const out = await ok(['exec', '-m', model, '--unit', name, '--', 'cat', '../hooks.log']);
  return out.trim().split('\n').map((l) => l.split(' ')[0]!.replace(/^hooks\//, ''));
}

export async function hookLines(model: string, name: string): Promise<string[]> {
  return (await ok(['exec', '-m', model, '--unit', name, '--', 'cat', '../hooks.log'])).trim().split('\n');
}

let counter = 0;
/** A fresh model per test file on the shared controller. */
export async function freshModel(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${counter++}`;
  await ok(['add-model', name, '-c', 'e2e']);
  return `e2e:${name}`;
}

/**
 * The LXC controller global setup bootstraps for suites that deploy real workloads.
 * SIGIL_E2E_LXC_CONTROLLER names another one (containers and bridges are named after the
 * controller, so two runs on one host need different names).
 */
export const LXC_CONTROLLER = process.env.SIGIL_E2E_LXC_CONTROLLER || 'e2e-machines';

/** LXC system containers need root on Linux (CI has both). */
export function canRunContainers(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0;
}

/** A fresh model on the shared LXC controller; its machines are real containers. */
export async function lxcModel(prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${counter++}`;
  await ok(['add-model', name, '-c', LXC_CONTROLLER]);
  return `${LXC_CONTROLLER}:${name}`;
}

/** A controller's entry in the test run's controllers.yaml, and its admin token. */
export function controllerEntry(name: string, home = process.env.SIGIL_HOME!): { endpoint: string; 'ca-cert': string; dir: string; token: string } {
  const f = YAML.parse(readFileSync(join(home, 'controllers.yaml'), 'utf8')) as { controllers: Record<string, { endpoint: string; 'ca-cert': string; dir: string }> };
  const a = YAML.parse(readFileSync(join(home, 'accounts.yaml'), 'utf8')) as { controllers: Record<string, { token: string }> };
  const entry = f.controllers[name];
  if (!entry) throw new Error(`harness: no controller "${name}" in ${home}/controllers.yaml`);
  return { ...entry, token: a.controllers[name]?.token ?? '' };
}

/**
 * A GET straight to a controller's API, trusting only the CA pinned for it in
 * controllers.yaml, as the CLI does (fetch would need an undici dispatcher for that).
 */
export function apiGet(name: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const e = controllerEntry(name);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(e.endpoint + path, { ca: e['ca-cert'], headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`harness: GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A provider the security suites run on, each against its own controller of the e2e run: the
 * same test body per provider, so what is proved on local-process is proved on real machines.
 */
export interface Provider {
  name: 'local-process' | 'lxc';
  controller: string;
  /** Whether this run can use it; under CI=true one that cannot makes the file fail (tests/ci.ts). */
  available: boolean;
  /** A fresh model on this provider's controller, as `controller:model`. */
  model(prefix: string): Promise<string>;
  /**
   * Deploy arguments that put a unit on machine `id` rather than a new one: on LXC a machine
   * is a container, so each suite keeps to one or two; local-process machines cost nothing.
   */
  onMachine(id: string): string[];
  /** How long a first unit may take to go active here (a container boots and installs the agent first). */
  settleMs: number;
  /** A file of machine `id`'s agent, by its path on the machine (`/etc/sigil/agent.json`, …), read from the host. */
  machineFile(model: string, id: string, path: string): Promise<string>;
}

/** The providers a security suite runs on, local-process first. */
export function providers(): Provider[] {
  return [
    { name: 'local-process', controller: 'e2e', available: true, model: freshModel, onMachine: () => [], settleMs: 90_000, machineFile: localMachineFile },
    {
      name: 'lxc',
      controller: LXC_CONTROLLER,
      available: canRun(canRunContainers(), 'root on Linux (LXC containers)'),
      model: lxcModel,
      onMachine: (id) => ['--to', id],
      settleMs: 300_000,
      machineFile: lxcMachineFile,
    },
  ];
}

/** Local-process machines keep the agent's files in their own directory: agent.json at its top. */
async function localMachineFile(model: string, id: string, path: string): Promise<string> {
  const [c, name] = model.split(':') as [string, string];
  const dir = join(controllerEntry(c).dir, 'machines', name, id);
  return readFileSync(path === '/etc/sigil/agent.json' ? join(dir, 'agent.json') : join(dir, path), 'utf8');
}

/** An LXC machine's files, from its overlay's upper layer (what the machine wrote or was given). */
async function lxcMachineFile(model: string, id: string, path: string): Promise<string> {
  return readFileSync(join(lxcUpper(model, (await status(model)).machines[id]!['instance-id']), path), 'utf8');
}

/** The lxcpath of an LXC controller of this run: one directory per container. */
export function lxcPath(controller: string): string {
  return join(controllerEntry(controller).dir, 'lxc-provider', 'lxc');
}

/** The upper layer of an LXC machine's overlay: every file the machine changed or was given. */
export function lxcUpper(model: string, instance: string): string {
  return join(lxcPath(model.split(':')[0]!), instance, 'upper');
}

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelStatusDoc } from '@sigil/api';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CHARMS = join(ROOT, 'tests', 'charms');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI binary against the shared test controller (SIGIL_HOME from global setup). */
export function sigil(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(join(ROOT, 'bin', 'sigil'), args, { env: process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Like `sigil` but fails the test with the CLI's own output when the command fails. */
export async function ok(args: string[]): Promise<string> {
  const r = await sigil(args);
  if (r.code !== 0) throw new Error(`sigil ${args.join(' ')} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function status(model: string): Promise<ModelStatusDoc> {
  return JSON.parse(await ok(['status', '-m', model, '--format', 'json'])) as ModelStatusDoc;
}

/** Polls status until `pred` holds; on timeout shows the last status and the model log. */
export async function until(model: string, what: string, pred: (s: ModelStatusDoc) => boolean, timeoutMs = 30_000): Promise<ModelStatusDoc> {
  const deadline = Date.now() + timeoutMs;
  let last: ModelStatusDoc | undefined;
  while (Date.now() < deadline) {
    // A controller that is restarting refuses connections for a moment; keep asking.
    last = await status(model).catch(() => last);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = await sigil(['debug-log', '-m', model, '--replay', '--no-tail', '-l', 'INFO']);
  throw new Error(`timed out waiting for ${what}\nstatus: ${JSON.stringify(last, null, 1)}\nlog:\n${log.stdout.split('\n').slice(-40).join('\n')}`);
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

/** The LXC controller global setup bootstraps for suites that deploy real workloads. */
export const LXC_CONTROLLER = 'e2e-machines';

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

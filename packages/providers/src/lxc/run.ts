import { spawn } from 'node:child_process';
import { SigilError } from '@sigil/core';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is otherwise closed. */
  input?: string;
  /** Called with each complete line the child writes to stdout or stderr. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; its code is then 137. */
  timeoutMs?: number;
}

/** The environment every host tool runs with: the host's leaks (NODE_*, proxies) stay out. */
export const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root' };

/**
 * Runs a host command to completion and collects its output. Never rejects for a non-zero
 * exit: a missing binary is reported as code 127, as a shell would.
 */
export function run(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: '/', env: o.env ?? CLEAN_ENV, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(o.timeoutMs === undefined ? {} : { timeout: o.timeoutMs, killSignal: 'SIGKILL' as const }) });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const feed = (chunk: string) => {
      if (!o.onLine) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') o.onLine(l);
    };
    child.stdout?.setEncoding('utf8').on('data', (d: string) => ((stdout += d), feed(d)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => ((stderr += d), feed(d)));
    if (o.input !== undefined) child.stdin?.end(o.input);
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    child.on('close', (code, signal) => {
      if (partial.trim() !== '') o.onLine?.(partial);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Runs a host command and throws a SigilError carrying its stderr when it fails. */
export async function runOk(cmd: string, args: readonly string[], o: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new SigilError('internal', `${cmd} ${args.slice(0, 3).join(' ')} failed (exit ${r.code}): ${detail}`);
  }
  return r.stdout;
}

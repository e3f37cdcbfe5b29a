import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  /** The last lines of combined output, kept to explain a failure without digging through logs. */
  tail: string[];
  stdout: string;
  stderr: string;
  /** False when the charm has no executable for this hook: a success, as in Juju. */
  ran: boolean;
}

const TAIL = 20;

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds what to run for `dispatchPath` (`hooks/install`, `actions/backup`): `dispatch` if
 * the charm has it, else the legacy per-hook file. A missing hook is not an error.
 */
export async function locate(charmDir: string, dispatchPath: string): Promise<string | undefined> {
  const dispatch = join(charmDir, 'dispatch');
  if (await executable(dispatch)) return dispatch;
  const legacy = join(charmDir, dispatchPath);
  return (await executable(legacy)) ? legacy : undefined;
}

export function runProcess(
  argv: string[],
  opts: { cwd: string; env: Record<string, string>; onLine: (stream: 'stdout' | 'stderr', line: string) => void; timeoutMs?: number; signal?: AbortSignal },
): Promise<Omit<RunResult, 'ran'>> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tail: string[] = [];
    const out = { stdout: '', stderr: '' };
    const partial = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      out[stream] += text;
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const l of lines) emit(stream, l);
    };
    const emit = (stream: 'stdout' | 'stderr', l: string) => {
      tail.push(l);
      if (tail.length > TAIL) tail.shift();
      opts.onLine(stream, l);
    };
    child.stdout.on('data', feed('stdout'));
    child.stderr.on('data', feed('stderr'));
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const timer = opts.timeoutMs ? setTimeout(kill, opts.timeoutMs) : undefined;
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => {
      emit('stderr', `cannot run ${argv[0]}: ${e.message}`);
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      for (const s of ['stdout', 'stderr'] as const) if (partial[s] !== '') emit(s, partial[s]);
      resolve({ code: code ?? (sig ? 128 + 9 : 1), tail, ...out });
    });
  });
}

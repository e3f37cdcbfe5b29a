import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { debugPaths, debugSessionTarget, parseDebugArgs, type DebugArgs, type DebugPaths } from '@sigil/core';

/** An operator's `sigil debug-hooks` (or `debug-code`) session on this machine, for one unit. */
export interface DebugSession {
  args: DebugArgs;
  paths: DebugPaths;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * The unit's debug session, if an operator is attached to one (Juju's FindSession): the
 * client's arguments file, its tmux session, and its exit lock still held. Without an
 * arguments file (every hook of an undebugged unit) this costs one failed read and starts
 * no process. A session whose client died without cleaning up is not one: nobody would
 * answer its window.
 */
export async function findDebugSession(root: string, unit: string): Promise<DebugSession | undefined> {
  const paths = debugPaths(root, unit);
  let text: string;
  try {
    text = await readFile(paths.args, 'utf8');
  } catch {
    return undefined;
  }
  const args = parseDebugArgs(text);
  if (!args) return undefined;
  if ((await run('tmux', [...paths.tmux, 'has-session', '-t', debugSessionTarget(unit)])).code !== 0) return undefined;
  if ((await run('flock', ['-n', paths.exitLock, '-c', 'true'])).code === 0) return undefined;
  return { args, paths };
}

/** `'…'` for bash, any byte allowed. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** env.sh: the hook's environment as `export` lines the debug window sources. */
export function envScript(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');
}

/**
 * The command the operator types to run the event by hand, as Juju words it: `./dispatch`
 * for a charm with dispatch, else the hook or action file (`./hooks/install`).
 */
export function debugHelpCommand(charmDir: string, runner: string | undefined, dispatchPath: string): string {
  if (runner === undefined) return `./${dispatchPath}`;
  return runner.startsWith(charmDir + '/') ? `./${runner.slice(charmDir.length + 1)}` : runner;
}

/**
 * hook.sh, what the debug window runs: the hook's environment, its pid recorded for the
 * agent, then either an interactive shell whose exit status ends the hook (debug-hooks) or
 * the hook itself with JUJU_DEBUG_AT set (debug-code), whose status ends it.
 */
export function hookScript(debugDir: string, runner: string | undefined): string {
  const status = '"$JUJU_DEBUG/hook_exit_status"';
  const lines = [
    '#!/bin/bash',
    `. ${shellQuote(join(debugDir, 'env.sh'))}`,
    'echo $$ > "$JUJU_DEBUG/hook.pid"',
    'cd "$JUJU_CHARM_DIR" || exit 1',
    'if [ -z "${JUJU_DEBUG_AT:-}" ]; then',
    '  exec /bin/bash --noprofile --init-file "$JUJU_DEBUG/init.sh"',
    'fi',
  ];
  if (runner === undefined) lines.push(`juju-log --log-level INFO "debugging is enabled, but no handler for $JUJU_DISPATCH_PATH, skipping"`, `echo 0 > ${status}`);
  else lines.push(`juju-log --log-level INFO "debug running $JUJU_DISPATCH_PATH"`, shellQuote(runner), `echo $? > ${status}`);
  return lines.join('\n') + '\n';
}

/** init.sh: the interactive shell's start-up; its exit status becomes the hook's. */
const INIT_SCRIPT = `PS1="$JUJU_UNIT_NAME:$JUJU_DISPATCH_PATH % "
cat "$JUJU_DEBUG/welcome.msg"
trap 'echo $? > "$JUJU_DEBUG/hook_exit_status"' EXIT
`;

function welcome(unit: string, event: string, help: string, paths: DebugPaths): string {
  const tmux = ['tmux', ...paths.tmux].join(' ');
  return `This is a Sigil debug-hooks session for ${unit}, stopped at "${event}".
The environment is the hook's (hook tools work); the unit's other hooks wait until this window closes.
1. Run it by hand:   ${help}
2. Then 'exit' (or 'exit N'): this window closes and the hook ends, succeeded if the status is 0, failed otherwise.
3. To run it and stop debugging:   ${help}; ${tmux} kill-session -t ${unit}

`;
}

/**
 * Whether the window's shell still runs. It is the tmux server's child, not ours, and the
 * server may leave it a zombie for a while after it exits: a zombie has finished.
 */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  // The state follows the command name, which is in parentheses and may contain anything.
  return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
}

function killTree(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export interface DebugHookRun {
  session: DebugSession;
  unit: string;
  /** The event: the hook or action name (the window's name). */
  event: string;
  dispatchPath: string;
  charmDir: string;
  /** dispatch or the hook/action file; undefined when the charm has none. */
  runner: string | undefined;
  env: Record<string, string>;
  signal?: AbortSignal;
  /** How often the window and the client are looked at. */
  pollMs?: number;
}

/**
 * Runs an event in the operator's tmux session instead of directly (Juju's ServerSession.
 * RunHook): a new window named after the event, with the hook's environment, and the event
 * ends when that window's shell exits, with its status. If the operator's client goes away
 * first (the session killed, the ssh connection dropped), the window is killed and the
 * event fails, as in Juju; the next events run normally.
 */
export async function runDebugHook(o: DebugHookRun): Promise<{ code: number; tail: string[] }> {
  const { paths, args } = o.session;
  const dir = await mkdtemp(join(paths.tmp, 'sigil-debug-hooks-'));
  const watcher = spawn('flock', [paths.exitLock, '-c', 'true'], { stdio: 'ignore' });
  let clientGone = false;
  watcher.on('exit', () => (clientGone = true));
  watcher.on('error', () => (clientGone = true));
  try {
    const help = debugHelpCommand(o.charmDir, o.runner, o.dispatchPath);
    const env: Record<string, string> = { ...o.env, JUJU_DEBUG: dir, PS1: `${o.unit}:${o.dispatchPath} % ` };
    if (args.debugAt !== undefined) env.JUJU_DEBUG_AT = args.debugAt;
    await writeFile(join(dir, 'env.sh'), envScript(env), { mode: 0o600 });
    await writeFile(join(dir, 'welcome.msg'), welcome(o.unit, o.event, help, paths));
    await writeFile(join(dir, 'init.sh'), INIT_SCRIPT, { mode: 0o755 });
    await writeFile(join(dir, 'hook.sh'), hookScript(dir, o.runner), { mode: 0o755 });
    const opened = await run('tmux', [...paths.tmux, 'new-window', '-t', `${debugSessionTarget(o.unit)}:`, '-n', o.event, '-c', o.charmDir, join(dir, 'hook.sh')]);
    if (opened.code !== 0) return { code: 1, tail: [`cannot open the debug-hooks window: ${opened.stderr.trim()}`] };
    const pollMs = o.pollMs ?? 200;
    const started = Date.now();
    let pid: number | undefined;
    for (;;) {
      if (pid === undefined) {
        const n = Number((await readFile(join(dir, 'hook.pid'), 'utf8').catch(() => '')).trim());
        if (Number.isInteger(n) && n > 0) pid = n;
        else if (Date.now() - started > 30_000) return { code: 1, tail: ['the debug-hooks window did not start within 30 s'] };
      }
      if (pid !== undefined && !(await alive(pid))) break;
      if (clientGone || o.signal?.aborted === true) {
        if (pid !== undefined) killTree(pid);
        return { code: 1, tail: [clientGone ? 'the debug-hooks client went away before the hook finished' : 'the agent stopped while the hook was being debugged'] };
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    // No status file: the shell was killed (the window or session closed under it), a failure.
    const raw = (await readFile(join(dir, 'hook_exit_status'), 'utf8').catch(() => '')).trim();
    const code = /^\d+$/.test(raw) ? Number(raw) : 1;
    return { code, tail: [`the debug-hooks window exited with status ${code}`] };
  } finally {
    watcher.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

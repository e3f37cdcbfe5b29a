import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { debugPaths, encodeDebugArgs, type DebugArgs } from '@sigil/core';
import { debugHelpCommand, envScript, findDebugSession, hookScript, runDebugHook } from './debug.ts';

const run = promisify(execFile);
const haveTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('debug scripts', () => {
  it('quotes every value of the hook environment for bash', async () => {
    const env = { JUJU_UNIT_NAME: 'a/0', ODD: "it's $HOME `x` \\ \"q\"\nline2", 'not-a-name': 'x' };
    const out = await run('/bin/bash', ['-c', `${envScript(env)} printf '%s|%s' "$JUJU_UNIT_NAME" "$ODD"`]);
    expect(out.stdout).toBe(`a/0|${env.ODD}`);
    expect(envScript(env)).not.toContain('not-a-name');
  });

  it('tells the operator what to run, as Juju does', () => {
    expect(debugHelpCommand('/c', '/c/dispatch', 'hooks/install')).toBe('./dispatch');
    expect(debugHelpCommand('/c', '/c/hooks/install', 'hooks/install')).toBe('./hooks/install');
    expect(debugHelpCommand('/c', undefined, 'actions/backup')).toBe('./actions/backup');
  });

  it('writes hook.sh that bash accepts', async () => {
    for (const runner of ['/c/dispatch', undefined]) {
      const dir = await mkdtemp(join(tmpdir(), 'sigil-hooksh-'));
      await writeFile(join(dir, 'hook.sh'), hookScript(dir, runner));
      await run('/bin/bash', ['-n', join(dir, 'hook.sh')]);
      await rm(dir, { recursive: true });
    }
  });
});

/** A real tmux server and a held exit lock, as `sigil debug-hooks` leaves them on a machine. */
describe.skipIf(!haveTmux && process.env.CI !== 'true')('debug sessions with tmux', () => {
  const unit = 'app/0';
  let root: string;
  let charmDir: string;
  let holder: ChildProcess | undefined;
  let paths: ReturnType<typeof debugPaths>;
  const tmux = (...args: string[]) => run('tmux', [...paths.tmux, ...args]);

  async function attachClient(args: DebugArgs): Promise<void> {
    await mkdir(paths.tmp, { recursive: true });
    await writeFile(paths.args, encodeDebugArgs(args));
    await tmux('new-session', '-d', '-s', unit, '-c', root);
    // The lock is held by this bash alone (`read` is a builtin): killing it releases the lock.
    const child = spawn('/bin/bash', ['-c', 'exec 9>"$1"; flock -n 9 || exit 1; echo locked; read -r _', '_', paths.exitLock], { stdio: ['pipe', 'pipe', 'ignore'] });
    holder = child;
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  }

  async function window(name: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const w = await tmux('list-windows', '-t', `=${unit}`, '-F', '#W').catch(() => ({ stdout: '' }));
      if (w.stdout.split('\n').includes(name)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no window ${name}`);
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sigil-debug-'));
    paths = debugPaths(root, unit);
    charmDir = join(root, 'charm');
    await mkdir(join(charmDir, 'hooks'), { recursive: true });
  });

  afterEach(async () => {
    holder?.kill('SIGKILL');
    holder = undefined;
    await tmux('kill-server').catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', JUJU_UNIT_NAME: unit, JUJU_HOOK_NAME: 'config-changed', JUJU_DISPATCH_PATH: 'hooks/config-changed', JUJU_CHARM_DIR: charmDir });

  it('finds a session only with its arguments, its tmux session and its client attached', async () => {
    expect(await findDebugSession(root, unit)).toBeUndefined();
    await attachClient({ hooks: ['config-changed'] });
    expect(await findDebugSession(root, unit)).toEqual({ args: { hooks: ['config-changed'] }, paths });
    expect(await findDebugSession(root, 'app/1')).toBeUndefined();
    holder!.kill('SIGKILL');
    await new Promise((r) => holder!.once('exit', r));
    expect(await findDebugSession(root, unit)).toBeUndefined();
  });

  it('debug-hooks: the event ends with the exit status of the operator\'s shell', async () => {
    await attachClient({ hooks: [] });
    const session = (await findDebugSession(root, unit))!;
    const done = runDebugHook({ session, unit, event: 'config-changed', dispatchPath: 'hooks/config-changed', charmDir, runner: undefined, env: env(), pollMs: 50 });
    await window('config-changed');
    await tmux('send-keys', '-t', `=${unit}:config-changed`, 'echo "$JUJU_HOOK_NAME $PWD" > ../seen; exit 4', 'Enter');
    expect(await done).toEqual({ code: 4, tail: ['the debug-hooks window exited with status 4'] });
    expect(await readFile(join(root, 'seen'), 'utf8')).toBe(`config-changed ${charmDir}\n`);
    expect((await readdir(paths.tmp)).filter((f) => f.startsWith('sigil-debug-hooks-'))).toEqual([]);
  });

  it('debug-code: runs the hook in the window with JUJU_DEBUG_AT set, and takes its status', async () => {
    const hook = join(charmDir, 'hooks', 'config-changed');
    await writeFile(hook, '#!/bin/bash\necho "at=$JUJU_DEBUG_AT debug=${JUJU_DEBUG:+set}" > ../seen\nexit 5\n');
    await chmod(hook, 0o755);
    await attachClient({ hooks: ['config-changed'], debugAt: 'hook' });
    const session = (await findDebugSession(root, unit))!;
    // juju-log is a hook tool; here a stand-in on PATH records what it was asked to log.
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'juju-log'), '#!/bin/sh\necho "$@" >> "$(dirname "$0")/../juju-log.out"\n', { mode: 0o755 });
    const r = await runDebugHook({ session, unit, event: 'config-changed', dispatchPath: 'hooks/config-changed', charmDir, runner: hook, env: { ...env(), PATH: `${bin}:${env().PATH}` }, pollMs: 50 });
    expect(r.code).toBe(5);
    expect(await readFile(join(root, 'seen'), 'utf8')).toBe('at=hook debug=set\n');
    expect(await readFile(join(root, 'juju-log.out'), 'utf8')).toContain('debug running hooks/config-changed');
  });

  it('fails the event when the client goes away with the window still open', async () => {
    await attachClient({ hooks: [] });
    const session = (await findDebugSession(root, unit))!;
    const done = runDebugHook({ session, unit, event: 'install', dispatchPath: 'hooks/install', charmDir, runner: undefined, env: env(), pollMs: 50 });
    await window('install');
    holder!.kill('SIGKILL');
    expect(await done).toEqual({ code: 1, tail: ['the debug-hooks client went away before the hook finished'] });
    const left = await tmux('list-windows', '-t', `=${unit}`, '-F', '#W');
    expect(left.stdout.split('\n')).not.toContain('install');
  });
});

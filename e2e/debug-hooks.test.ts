import { afterAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { debugPaths } from '@sigil/core';
import { CHARMS, ROOT, controllerEntry, freshModel, ok, poll, sigil, status, unit, until, workload } from './harness.ts';

const run = promisify(execFile);
/** scripts/setup.sh installs tmux; CI must run this test, a developer without tmux sees it skipped. */
const haveTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * debug-hooks on a local-process machine, driven as an operator would drive it: the CLI runs
 * in a terminal (a detached tmux of the test's own, on its own socket), and the test types
 * into the debug window with `tmux send-keys` on the machine's tmux.
 */
describe('debug-hooks', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sigil-debug-hooks-'));
  const terminal = ['-S', join(scratch, 'terminal.sock')];
  afterAll(async () => {
    await run('tmux', [...terminal, 'kill-server']).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  });

  it.skipIf(!haveTmux && process.env.CI !== 'true')('stops matching hooks in the operator\'s window, ends them with its exit status, and lets go when the session ends', async () => {
    const m = await freshModel('dbg');
    await ok(['model-config', '-m', m, 'automatically-retry-hooks=false']);
    await ok(['deploy', join(CHARMS, 'sink'), 'sink', '-m', m]);
    let s = await until(m, 'sink/0 started', (s) => workload(s, 'sink/0') === 'blocked waiting for a source' && unit(s, 'sink/0')?.['juju-status'].current === 'idle');
    const machine = unit(s, 'sink/0')!.machine!;
    const root = join(controllerEntry('e2e').dir, 'machines', m.split(':')[1]!, machine);
    const paths = debugPaths(root, 'sink/0');
    const hooksLog = join(root, 'agents', 'unit-sink-0', 'hooks.log');
    const logged = () => readFileSync(hooksLog, 'utf8').trim().split('\n');
    const tmux = (...args: string[]) => run('tmux', [...paths.tmux, ...args]);
    const windows = async () => (await tmux('list-windows', '-t', '=sink/0', '-F', '#W')).stdout.trim().split('\n');

    // Bad input changes nothing: no arguments file, no session.
    const unknown = await sigil(['debug-hooks', 'sink/0', 'no-such-hook', '-m', m]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unit "sink/0" contains neither hook nor action "no-such-hook"');
    expect(unknown.stderr).toContain('config-changed');
    expect(unknown.stderr).toMatch(/^hint: /m);
    const missing = await sigil(['debug-hooks', 'nope/0', '-m', m]);
    expect(missing.stderr).toMatch(/unit "nope\/0" not found[^\n]*\nhint: /);
    expect(existsSync(paths.args)).toBe(false);

    // The operator's terminal: debug-hooks for config-changed only.
    const cliExit = join(scratch, 'cli-exit');
    const cli = `${join(ROOT, 'bin', 'sigil')} debug-hooks -m ${m} sink/0 config-changed; echo $? > ${cliExit}`;
    await run('tmux', [...terminal, 'new-session', '-d', '-x', '160', '-y', '40', '-e', `SIGIL_HOME=${process.env.SIGIL_HOME!}`, cli]);
    await poll('the debug session on the machine', async () => ((await tmux('has-session', '-t', '=sink/0').then(() => true, () => false)) ? true : undefined));

    // config-changed stops in a window; it has not run, and the unit's next work waits behind it.
    const before = logged().length;
    await ok(['config', 'sink', 'fail-hook=nothing', '-m', m]);
    await poll('the config-changed window', async () => ((await windows()).includes('config-changed') ? true : undefined));
    s = await status(m);
    expect(unit(s, 'sink/0')?.['juju-status'].current).toBe('executing');
    expect(logged().length).toBe(before);
    let queuedDone = false;
    const queued = sigil(['exec', '-m', m, '--unit', 'sink/0', '--', 'echo queued-exec >> ../hooks.log']).finally(() => (queuedDone = true));
    const pane = (await tmux('capture-pane', '-p', '-t', '=sink/0:config-changed')).stdout;
    expect(pane).toContain('./hooks/config-changed');
    expect(logged().length).toBe(before);
    expect(queuedDone).toBe(false);

    // `exit 3` without running it: the hook failed with that status.
    await tmux('send-keys', '-t', '=sink/0:config-changed', 'exit 3', 'Enter');
    s = await until(m, 'config-changed to fail', (s) => unit(s, 'sink/0')?.['workload-status'].message === 'hook failed: "config-changed"');
    expect(await ok(['debug-log', '-m', m, '--replay', '--no-tail', '-l', 'ERROR', '-i', 'sink/0'])).toContain('hook "config-changed" failed with exit code 3');
    expect((await queued).code).toBe(0);
    expect(logged().slice(before)).toEqual(['queued-exec']);

    // Retried, it stops again; run by hand in the hook's environment, it succeeds.
    await ok(['resolve', 'sink/0', '-m', m]);
    await poll('the config-changed window again', async () => ((await windows()).includes('config-changed') ? true : undefined));
    await tmux('send-keys', '-t', '=sink/0:config-changed', 'echo "debug $JUJU_HOOK_NAME $JUJU_UNIT_NAME" >> ../hooks.log; ./hooks/config-changed; exit $?', 'Enter');
    await until(m, 'sink/0 idle after the hook', (s) => unit(s, 'sink/0')?.['workload-status'].current === 'blocked' && unit(s, 'sink/0')?.['juju-status'].current === 'idle');
    expect(logged().slice(before + 1).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(['debug config-changed sink/0', 'config-changed remote= app=']);

    // A hook the session does not name runs normally meanwhile.
    await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=dbg']);
    await ok(['integrate', 'sink', 'source', '-m', m]);
    await until(m, 'sink/0 to read the token', (s) => workload(s, 'sink/0').startsWith('active token=dbg'), 60_000);
    expect(await windows()).not.toContain('input-relation-changed');
    expect(logged().some((l) => l.startsWith('input-relation-changed'))).toBe(true);

    // The operator goes away (the terminal is closed): the session ends and hooks run without stopping.
    await run('tmux', [...terminal, 'kill-server']);
    // Seen once under a loaded CI run to outlast 30 s: the wait is longer, and a failure lists
    // the processes still holding the session.
    await poll('the debug session to end', async () => ((await tmux('has-session', '-t', '=sink/0').then(() => true, () => false)) ? undefined : true), 90_000).catch(async (e: unknown) => {
      const ps = (await run('ps', ['-eo', 'pid,ppid,pgid,stat,etime,args'])).stdout.split('\n').filter((l) => /tmux|debug-hooks|flock/.test(l)).join('\n');
      throw new Error(`${(e as Error).message}\nprocesses:\n${ps}`);
    });
    const after = logged().length;
    await ok(['config', 'sink', 'fail-hook=still-nothing', '-m', m]);
    await poll('config-changed to run by itself', async () => (logged().slice(after).some((l) => l.startsWith('config-changed')) ? true : undefined));
    s = await until(m, 'sink/0 idle', (s) => unit(s, 'sink/0')?.['juju-status'].current === 'idle');
    expect(workload(s, 'sink/0')).toMatch(/^active token=dbg/);
  }, 240_000);
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SigilError } from '@sigil/core';
import { run, runOk, type RunResult } from './run.ts';

export type ContainerState = 'RUNNING' | 'STOPPED' | 'STARTING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

/** The environment commands run with inside a machine: root's, with nothing from the host. */
export const MACHINE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The lxc-* commands, always against Sigil's own lxcpath, never the host's default one. */
export class LxcCli {
  constructor(readonly lxcpath: string) {}

  private args(name: string): string[] {
    return ['-P', this.lxcpath, '-n', name];
  }

  /** The container's state, or undefined when LXC does not know it. */
  async state(name: string): Promise<ContainerState | undefined> {
    const r = await run('lxc-info', [...this.args(name), '-s', '-H']);
    return r.code === 0 ? (r.stdout.trim() as ContainerState) : undefined;
  }

  /** The host pid of the container's init, when it runs. */
  async initPid(name: string): Promise<number | undefined> {
    const r = await run('lxc-info', [...this.args(name), '-p', '-H']);
    const n = Number(r.stdout.trim());
    return r.code === 0 && n > 0 ? n : undefined;
  }

  /** Starts the container in the background and resolves once LXC reports it RUNNING. */
  async start(name: string): Promise<void> {
    const r = await run('lxc-start', [...this.args(name), '-d']);
    if (r.code !== 0) {
      const log = (await readFile(join(this.lxcpath, name, 'lxc.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-8).join('\n');
      throw new SigilError('internal', `lxc-start ${name} failed: ${r.stderr.trim()}`, log ? `lxc.log:\n${log}` : undefined);
    }
    await runOk('lxc-wait', [...this.args(name), '-s', 'RUNNING', '-t', '10']);
  }

  /**
   * Stops the container: cleanly (systemd halts its services) within `timeoutS`, then by
   * force; `kill` skips the clean part. A container that is not running is fine.
   */
  async stop(name: string, o: { kill?: boolean; timeoutS?: number } = {}): Promise<void> {
    const state = await this.state(name);
    if (state === undefined || state === 'STOPPED') return;
    const r = await run('lxc-stop', [...this.args(name), ...(o.kill ? ['-k'] : ['-t', String(o.timeoutS ?? 10)])]);
    if (r.code !== 0 && (await this.state(name)) !== 'STOPPED') {
      throw new SigilError('internal', `lxc-stop ${name} failed: ${r.stderr.trim()}`);
    }
  }

  /** The lxc-attach command line for argv (streamed by the caller). */
  attachArgs(name: string, argv: readonly string[]): string[] {
    return [...this.args(name), '--clear-env', '--set-var', `PATH=${MACHINE_PATH}`, '--set-var', 'HOME=/root', '--set-var', 'LANG=C.UTF-8', '--', ...argv];
  }

  /** Runs argv inside the container with a clean environment (no host variables leak in). */
  attach(name: string, argv: readonly string[], input?: string): Promise<RunResult> {
    const args = [...this.args(name), '--clear-env', '--set-var', `PATH=${MACHINE_PATH}`, '--set-var', 'HOME=/root', '--set-var', 'LANG=C.UTF-8', '--', ...argv];
    return run('lxc-attach', args, input === undefined ? {} : { input });
  }

  /** Reads (no value) or writes a cgroup v1 setting of a running container. */
  async cgroup(name: string, key: string, value?: string): Promise<string> {
    return (await runOk('lxc-cgroup', [...this.args(name), key, ...(value === undefined ? [] : [value])])).trim();
  }
}

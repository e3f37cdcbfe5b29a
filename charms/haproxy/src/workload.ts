/**
 * What the charm does to its machine: Debian's haproxy package, its configuration file,
 * the systemd unit and the runtime API on the admin socket.
 *
 * Debian 12's haproxy.service already runs HAProxy in master-worker mode (`-Ws`,
 * Type=notify) and reloads with `haproxy -c` then SIGUSR2 to the master, which re-executes
 * with `-x sockpair@…`: the new worker takes the listening sockets over from the old one,
 * which finishes its established connections. So `systemctl reload haproxy` is already the
 * seamless reload; the charm only adds `expose-fd listeners` and a server-state file.
 */
import { connect } from 'node:net';
import { readFile, unlink } from 'node:fs/promises';
import { CommandError, aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { ADMIN_SOCKET, STATE_FILE } from './render.ts';

export const CONFIG = '/etc/haproxy/haproxy.cfg';

export interface ServerState {
  backend: string;
  server: string;
  state: 'drain' | 'ready';
}

export type Applied = 'started' | 'reloaded' | 'unchanged';

export interface Workload {
  install(): Promise<void>;
  version(): Promise<string>;
  /**
   * Converges HAProxy to this configuration and these server states: validates the file
   * first (a rejected one throws InvalidConfigError and changes nothing), then starts
   * HAProxy or reloads it seamlessly when the file changed, and sets the servers' admin
   * states over the runtime API (no reload for those).
   */
  apply(config: string, states: readonly ServerState[]): Promise<Applied>;
  stop(): Promise<void>;
}

export class InvalidConfigError extends Error {
  constructor(readonly output: string) {
    super(`haproxy -c rejected the configuration: ${output.trim().split('\n').filter((l) => /ALERT|error/i.test(l))[0] ?? output.trim().split('\n')[0] ?? ''}`);
    this.name = 'InvalidConfigError';
  }
}

/** Sends commands to the runtime API (one connection, `;`-separated) and returns its answer. */
export function runtimeApi(commands: readonly string[], socket = ADMIN_SOCKET, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket, () => s.end(commands.join(';') + '\n'));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no answer from ${socket} within ${timeoutMs} ms`)));
  });
}

async function workerPid(): Promise<number | undefined> {
  const info = await runtimeApi(['show info']).catch(() => '');
  const m = /^Pid: (\d+)$/m.exec(info);
  return m ? Number(m[1]) : undefined;
}

export class SystemWorkload implements Workload {
  async install(): Promise<void> {
    await aptInstall(['haproxy']);
  }

  async version(): Promise<string> {
    const out = await sh(['haproxy', '-v']);
    return /version (\S+)/.exec(out)?.[1] ?? '';
  }

  async apply(config: string, states: readonly ServerState[]): Promise<Applied> {
    const running = await isActive('haproxy');
    // Admin states first, so the state file saved below carries them into the new worker.
    // Best effort: a worker on someone else's configuration may have no admin socket.
    if (running) await setStates(states).catch(() => {});
    const current = await readFile(CONFIG, 'utf8').catch(() => '');
    if (current === config && running) return 'unchanged';
    if (current !== config) {
      const candidate = CONFIG + '.sigil-new';
      await writeIfChanged(candidate, config);
      try {
        await sh(['haproxy', '-c', '-q', '-f', candidate]);
      } catch (e) {
        throw new InvalidConfigError(e instanceof CommandError ? e.stderr + e.stdout : String(e));
      } finally {
        await unlink(candidate).catch(() => {});
      }
      const state = running ? await runtimeApi(['show servers state']).catch(() => undefined) : undefined;
      if (state !== undefined) await writeIfChanged(STATE_FILE, state);
      else await unlink(STATE_FILE).catch(() => {}); // a stale state is worse than none
      await writeIfChanged(CONFIG, config);
    }
    if (!running) {
      await sh(['systemctl', 'enable', '--now', 'haproxy']);
      await waitForWorker(undefined);
      await setStates(states);
      return 'started';
    }
    const old = await workerPid();
    await systemctl('reload', 'haproxy');
    await waitForWorker(old);
    await setStates(states);
    return 'reloaded';
  }

  async stop(): Promise<void> {
    await systemctl('stop', 'haproxy');
  }
}

/** Waits until the runtime API is answered by a worker other than `old`. */
async function waitForWorker(old: number | undefined, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await workerPid();
    if (pid !== undefined && pid !== old) return;
    if (Date.now() > deadline) {
      const journal = await sh(['journalctl', '-u', 'haproxy', '-n', '5', '--no-pager']).catch(() => '');
      throw new Error(`haproxy: no new worker on ${ADMIN_SOCKET} ${timeoutMs / 1000} s after (re)start (worker pid still ${pid ?? 'unknown'})\n${journal}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sets each server's admin state; servers the running worker does not have yet are skipped. */
async function setStates(states: readonly ServerState[]): Promise<void> {
  if (states.length === 0) return;
  await runtimeApi(states.map((s) => `set server ${s.backend}/${s.server} state ${s.state}`));
}

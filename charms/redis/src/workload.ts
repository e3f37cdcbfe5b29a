/** What the redis charm does to its machine, behind an interface the tests replace. */
import { aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { readFile } from 'node:fs/promises';

export interface Workload {
  install(): Promise<void>;
  version(): Promise<string>;
  /** The configuration Redis runs with ('' before install). */
  readConfig(): Promise<string>;
  writeConfig(text: string): Promise<void>;
  running(): Promise<boolean>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** CONFIG SET on the running Redis, authenticated with the password it runs with. */
  configSet(port: number, password: string, values: [string, string][]): Promise<void>;
}

const CONF = '/etc/redis/redis.conf';
const SERVICE = 'redis-server.service';

export class MachineWorkload implements Workload {
  async install() {
    await aptInstall(['redis-server']);
  }

  async version() {
    const out = await sh(['redis-server', '--version']);
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  }

  readConfig() {
    return readFile(CONF, 'utf8').catch(() => '');
  }

  async writeConfig(text: string) {
    // It holds the password: readable by the redis user only, as Debian ships it.
    const [uid, gid] = await Promise.all([sh(['id', '-u', 'redis']), sh(['id', '-g', 'redis'])]);
    await writeIfChanged(CONF, text, { mode: 0o640, uid: Number(uid), gid: Number(gid) });
  }

  running() {
    return isActive(SERVICE);
  }

  async restart() {
    // Type=notify: this returns once Redis accepts connections.
    await systemctl('restart', SERVICE);
  }

  async stop() {
    await systemctl('stop', SERVICE);
  }

  async configSet(port: number, password: string, values: [string, string][]) {
    // The password goes in the environment, not on the command line where ps shows it.
    const env: Record<string, string> = password ? { REDISCLI_AUTH: password } : {};
    const out = await sh(['redis-cli', '-p', String(port), 'CONFIG', 'SET', ...values.flat()], { env, timeoutMs: 10_000 });
    if (out.trim() !== 'OK') throw new Error(`Redis refused CONFIG SET ${values.map(([k]) => k).join(' ')}: ${out.trim()}`);
  }
}

/** What the memcached charm does to its machine, behind an interface the tests replace. */
import { aptInstall, isActive, sh, systemctl, writeIfChanged } from '@sigil/charm-sdk';
import { mkdir, readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';

export interface Workload {
  install(): Promise<void>;
  version(): Promise<string>;
  /** The configuration memcached runs with ('' before install). */
  readConfig(): Promise<string>;
  writeConfig(text: string): Promise<void>;
  running(): Promise<boolean>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Changes the running memcached's verbosity in place (0 quiet, 2 every command). */
  setVerbosity(port: number, level: number): Promise<void>;
  /** memcached's output (the journal of its service) since the previous call. */
  newLogLines(): Promise<string[]>;
  stats(port: number): Promise<Record<string, string>>;
}

const CONF = '/etc/memcached.conf';
const SERVICE = 'memcached.service';
/** Where journalctl keeps its place between hooks (`--cursor-file`). */
const CURSOR_DIR = '/var/lib/sigil-memcached';

export class MachineWorkload implements Workload {
  async install() {
    await aptInstall(['memcached']);
  }

  async version() {
    return (await sh(['memcached', '-V'])).trim().replace(/^memcached /, '');
  }

  readConfig() {
    return readFile(CONF, 'utf8').catch(() => '');
  }

  async writeConfig(text: string) {
    await writeIfChanged(CONF, text);
  }

  running() {
    return isActive(SERVICE);
  }

  async restart() {
    await systemctl('restart', SERVICE);
  }

  async stop() {
    await systemctl('stop', SERVICE);
  }

  async setVerbosity(port: number, level: number) {
    const reply = await memcachedRequest(port, `verbosity ${level}\r\n`, /\r\n$/);
    if (reply.trim() !== 'OK') throw new Error(`memcached refused "verbosity ${level}": ${reply.trim()}`);
  }

  async newLogLines() {
    await mkdir(CURSOR_DIR, { recursive: true });
    const out = await sh(['journalctl', '--unit', SERVICE, '--cursor-file', `${CURSOR_DIR}/journal.cursor`, '--output', 'cat', '--quiet', '--no-pager']);
    return out.split('\n').filter((l) => l.trim() !== '');
  }

  async stats(port: number) {
    const reply = await memcachedRequest(port, 'stats\r\n', /^END\r\n/m);
    const stats: Record<string, string> = {};
    for (const m of reply.matchAll(/^STAT (\S+) (.*)\r$/gm)) stats[m[1]!] = m[2]!;
    return stats;
  }
}

/** Sends one text-protocol request to the local memcached and reads until `end` matches. */
function memcachedRequest(port: number, request: string, end: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(request));
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => socket.destroy(new Error(`memcached on port ${port} did not answer "${request.trim()}" in 5 s`)));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (end.test(reply)) {
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', reject);
    // After a resolve this reject is a no-op; before one it explains a dropped connection.
    socket.on('close', () => reject(new Error(`memcached on port ${port} closed the connection before answering "${request.trim()}"`)));
  });
}

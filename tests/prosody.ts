/**
 * Debian's prosody for tests: one server on a loopback port, run in the foreground (no
 * systemd) from a config and data directory in a temporary directory, with a multi-user chat
 * component at conference.localhost. Accounts are made with prosodyctl before it starts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.ts';

export function hasProsody(): boolean {
  return existsSync('/usr/bin/prosody') && existsSync('/usr/bin/prosodyctl');
}


export interface Prosody {
  port: number;
  /** host:port for `sigil notify add --xmpp-server`. */
  server: string;
  stop(): Promise<void>;
}

export async function startProsody(accounts: Record<string, string>): Promise<Prosody> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-prosody-'));
  const port = await freePort();
  const cfg = join(dir, 'prosody.cfg.lua');
  // No TLS on loopback (no certificate to make): the client then authenticates with SCRAM
  // (it never sends PLAIN over an unencrypted stream).
  writeFileSync(cfg, `daemonize = false
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}"
log = { info = "${dir}/prosody.log"; error = "${dir}/prosody.err" }
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
s2s_ports = { }
c2s_direct_tls_ports = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping" }
modules_disabled = { "s2s"; "posix"; "http"; "bosh"; "websocket" }
authentication = "internal_plain"
c2s_require_encryption = false
muc_room_locking = false
VirtualHost "localhost"
Component "conference.localhost" "muc"
`);
  for (const [user, pw] of Object.entries(accounts)) execFileSync('prosodyctl', ['--config', cfg, 'register', user, 'localhost', pw], { stdio: 'ignore' });
  const child: ChildProcess = spawn('prosody', ['--config', cfg], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Listening is the condition (not a sleep): connect until it answers, or the log says why not.
  for (const deadline = Date.now() + 20_000; ; ) {
    const up = await new Promise<boolean>((r) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, 'prosody.err')) ? readFileSync(join(dir, 'prosody.err'), 'utf8') : '';
      await stop();
      throw new Error(`prosody did not start on 127.0.0.1:${port}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, server: `127.0.0.1:${port}`, stop };
}

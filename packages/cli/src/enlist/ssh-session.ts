import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { SigilError } from '@sigil/core';
import type { SshTarget } from './target.ts';

export interface SshOptions {
  privateKey?: string;
  /** Trust an unknown host key on first use (it is added to known_hosts); a changed key is still refused. */
  acceptHostKey: boolean;
  /** known_hosts to check against; the user's own (ssh's default, honouring ~/.ssh/config) when unset. */
  knownHosts?: string;
  /** Directory private to this enlistment: the connection-sharing socket lives there. */
  controlDir: string;
  /** The command named in errors (`add-machine` by default). */
  verb?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const CIPHERS = 'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

/** How a script gets root: it has it, through `sudo -n`, or whichever applies on the host. */
export type Root = 'sudo' | 'direct' | 'auto';

/** POSIX single quotes around any string. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The system OpenSSH client, one multiplexed connection per host: the first command opens
 * it (host key checked, key authenticated), later ones ride on it for a few milliseconds
 * each. Nothing secret is ever on a command line: data goes in on the remote command's stdin.
 */
export class SshSession {
  private master = false;

  constructor(readonly target: SshTarget, private readonly o: SshOptions) {}

  private args(): string[] {
    const a = [
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=5',
      '-o', `StrictHostKeyChecking=${this.o.acceptHostKey ? 'accept-new' : 'yes'}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.o.controlDir}/cm`,
      '-o', 'ControlPersist=60',
      '-o', 'ServerAliveInterval=5',
      '-o', 'LogLevel=ERROR',
      // The bundle (Node is ~95 MB) is the bulk of an enlistment: AES-GCM (AES-NI on both
      // ends, nearly everywhere) costs the least CPU per byte (here 2.06 against ChaCha20's
      // 1.83 GB/s); the others stay as fallbacks for hosts that offer no GCM.
      '-o', `Ciphers=${CIPHERS}`,
      '-p', String(this.target.port),
    ];
    if (this.o.knownHosts) a.push('-o', `UserKnownHostsFile=${this.o.knownHosts}`);
    if (this.o.privateKey) a.push('-i', this.o.privateKey, '-o', 'IdentitiesOnly=yes');
    if (this.target.user) a.push('-l', this.target.user);
    return a;
  }

  /**
   * Runs a shell script on the host (as the login user, or as root through `sudo -n` when
   * `root` is set and the user is not root; `auto`: decided on the host), with `input` on its stdin.
   */
  run(script: string, opts: { root?: Root; input?: string | Buffer | Readable; signal?: AbortSignal } = {}): Promise<RunResult> {
    const command = opts.root === 'sudo' ? `sudo -n sh -c ${shq(script)}`
      : opts.root === 'auto' ? `if [ "$(id -u)" = 0 ]; then sh -c ${shq(script)}; else sudo -n sh -c ${shq(script)}; fi`
        : `sh -c ${shq(script)}`;
    const child = spawn('ssh', [...this.args(), '--', this.target.host, command], { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.signal ? { signal: opts.signal } : {}) });
    this.master = true;
    return collect(child, opts.input);
  }

  /** Like run, but a non-zero exit is an error naming the step. */
  async must(step: string, script: string, opts: { root?: Root; input?: string | Buffer | Readable } = {}): Promise<string> {
    const r = await this.run(script, opts);
    if (r.code !== 0) throw stepError(step, this.target, r, this.o.verb);
    return r.stdout;
  }

  /** Closes the shared connection (ssh -O exit), if one was opened. */
  async close(): Promise<void> {
    if (!this.master) return;
    const child = spawn('ssh', [...this.args(), '-O', 'exit', this.target.host], { stdio: ['ignore', 'ignore', 'ignore'] });
    await new Promise((r) => child.on('close', r));
  }
}

function collect(child: ChildProcess, input: string | Buffer | Readable | undefined): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new SigilError('unavailable', `cannot run ssh: ${e.message}`, 'install the OpenSSH client (apt-get install openssh-client)')));
    child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr }));
    child.stdin!.on('error', () => {});
    if (input === undefined) child.stdin!.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin!.end(input);
    else input.pipe(child.stdin!);
  });
}

/**
 * Why ssh itself failed (exit 255), in words and with what to do; or why the remote
 * command failed. ssh's own messages are stable across OpenSSH releases.
 */
export function stepError(step: string, t: SshTarget, r: RunResult, verb = 'add-machine'): SigilError {
  const host = t.host;
  const err = r.stderr.trim();
  const last = err.split('\n').filter(Boolean).slice(-3).join('; ');
  const fail = (message: string, hint: string) => new SigilError('unavailable', `${verb} ${host}: step "${step}" failed: ${message}`, hint);
  if (r.code === 255) {
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(err)) {
      return fail(`the host key of ${host} does not match the one in known_hosts (possible man-in-the-middle, or the host was reinstalled)`, `if the host was reinstalled, remove the old key with \`ssh-keygen -R ${t.port === 22 ? host : `'[${host}]:${t.port}'`}\` and enlist again with --accept-host-key`);
    }
    if (/No .*host key is known|Host key verification failed/i.test(err)) {
      return fail(`the host key of ${host} is not in known_hosts`, 'check the key\'s fingerprint with the host\'s owner, then add it to known_hosts (ssh-keyscan) or pass --accept-host-key to trust it on first use');
    }
    if (/Permission denied/i.test(err)) {
      return fail(`${t.user ?? 'the login user'}@${host} refused our key (${last})`, 'give the key the host accepts with --private-key FILE (or load it into ssh-agent), and the user with ssh:USER@HOST');
    }
    if (/Connection refused/i.test(err)) return fail(`nothing accepts ssh connections at ${host} port ${t.port}`, 'is sshd running there, and is the port right (ssh:HOST:PORT)?');
    if (/timed out|No route to host|Network is unreachable|Could not resolve|Name or service not known/i.test(err)) {
      return fail(`${host} is unreachable (${last})`, 'check the address and that this host can reach it: `ssh -p PORT USER@HOST true`');
    }
    return fail(`ssh failed (${last || 'exit 255'})`, `try \`ssh -p ${t.port} ${t.user ? `${t.user}@` : ''}${host} true\` to see why`);
  }
  if (/sudo: .*password is required|sudo: a terminal is required|is not in the sudoers|may not run sudo/i.test(err)) {
    return fail(`${t.user ?? 'the login user'} needs a password for sudo`, 'enlist as root, or give the user passwordless sudo (NOPASSWD in /etc/sudoers.d)');
  }
  return fail(last || `exit ${r.code}`, `the host's own message is above; fix it and run ${verb} again (nothing was left installed)`);
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { SigilError, isSigilError } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';

/**
 * The address of a unit (`app/N`) or machine (`N`). The controller answers only users with
 * write access to the model (Juju's rule for ssh), so a read user is refused here, before
 * any connection is tried.
 */
async function address(c: Client, target: string): Promise<string> {
  const noSshd = new SigilError('bad-request', `ssh needs machines with their own sshd; controller "${c.controller}" uses the ${c.entry.provider} provider`, 'use `sigil exec --unit <unit> -- <command>` instead');
  let addr: string;
  try {
    addr = (await c.call('GET /api/models/:model/ssh-address', { query: { target } })).address;
  } catch (e) {
    if (isSigilError(e) && e.code === 'forbidden') {
      throw new SigilError('forbidden', `ssh to ${target} needs write access to model ${c.model}: ${e.message}`, 'ask a model admin to `sigil grant <you> write <model>` and to add your public key with `sigil add-ssh-key`');
    }
    // Without sshd on the machines, that is the answer whether or not the target has an address yet.
    if (isSigilError(e) && e.code === 'not-found' && c.entry.provider !== 'lxc') throw noSshd;
    throw e;
  }
  if (c.entry.provider !== 'lxc') throw noSshd;
  return addr;
}

/**
 * The options every ssh and scp call gets: host keys remembered per controller, and the
 * controller's own key where this client has it (the operator who bootstrapped); another
 * user connects with their own key (ssh's defaults or agent), which a model admin added
 * with `sigil add-ssh-key`.
 */
function sshOptions(keyDir: string): string[] {
  const own = join(keyDir, 'id_ed25519');
  return [...(existsSync(own) ? ['-i', own] : []), '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(keyDir, 'known_hosts')}`, '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes'];
}

/**
 * The ssh command line for a target. What followed the target on sigil's command line comes
 * after the host verbatim, as with `juju ssh`: ssh options first if any (`-L 8080:localhost:80`),
 * then the remote command; a `--` there ends ssh's own options.
 */
export function sshArgs(keyDir: string, addr: string, rest: string[], tty: boolean): string[] {
  return [...sshOptions(keyDir), ...(tty && rest.length === 0 ? ['-t'] : []), `root@${addr}`, ...rest];
}

/**
 * The scp command line: words in the order given, with each `<unit or machine>:<path>` turned
 * into `root@<address>:<path>`; anything else (paths, scp options such as `-r` or `-P 22`) is
 * passed as it is.
 */
export async function scpArgs(keyDir: string, words: string[], recursive: boolean, address: (target: string) => Promise<string>): Promise<string[]> {
  const args: string[] = recursive ? ['-r'] : [];
  for (const w of words) {
    const m = /^([a-z][a-z0-9-]*\/\d+|\d+):(.*)$/.exec(w);
    args.push(m ? `root@${await address(m[1]!)}:${m[2]}` : w);
  }
  return [...sshOptions(keyDir), ...args];
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(127));
  });
}

export function registerSsh(program: Command, ctx: Ctx): void {
  program
    .command('ssh')
    .description('open a shell on (or run a command on) a unit\'s or machine\'s host, as root')
    .usage('[options] <target> [ssh options] [command...]')
    .argument('<target>', 'unit (app/N) or machine id')
    .argument('[command...]', 'everything after the target goes to ssh: its options, then the remote command')
    .option('-m, --model <model>', 'model')
    // Options after the target belong to ssh and the remote command (`sigil ssh 0 ls -la`).
    .passThroughOptions()
    .action(async (target: string, rest: string[], o: { model?: string }) => {
      const c = ctx.client(o.model);
      const addr = await address(c, target);
      process.exitCode = await run('ssh', sshArgs(join(c.entry.dir, 'ssh'), addr, rest, process.stdin.isTTY === true));
    });

  program
    .command('scp')
    .description('copy files to or from units and machines (write them as <unit or machine>:<path>)')
    .usage('[options] [--] [scp options] <source...> <destination>')
    .argument('<paths...>', 'sources and destination; scp options may be mixed in, or given after --')
    .option('-m, --model <model>', 'model')
    .option('-r, --recursive', 'copy directories recursively')
    // Options sigil does not know (-p, -C, -P 22, ...) are scp's, kept in place.
    .allowUnknownOption()
    .action(async (paths: string[], o: { model?: string; recursive?: boolean }) => {
      const c = ctx.client(o.model);
      process.exitCode = await run('scp', await scpArgs(join(c.entry.dir, 'ssh'), paths, o.recursive === true, (t) => address(c, t)));
    });
}

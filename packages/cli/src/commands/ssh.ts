import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ModelStatusDoc } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';

/** The address of a unit (`app/N`) or machine (`N`), from one status read. */
async function address(c: Client, target: string): Promise<string> {
  if (c.entry.provider !== 'lxc') {
    throw new SigilError('bad-request', `ssh needs machines with their own sshd; controller "${c.controller}" uses the ${c.entry.provider} provider`, 'use `sigil exec --unit <unit> -- <command>` instead');
  }
  const s = await c.get<ModelStatusDoc>(c.m('/status'));
  if (/^\d+$/.test(target)) {
    const m = s.machines[target];
    if (!m?.['dns-name']) throw new SigilError('not-found', `machine "${target}" not found or has no address yet`, 'see `sigil status`');
    return m['dns-name'];
  }
  for (const app of Object.values(s.applications)) {
    for (const [name, u] of Object.entries(app.units ?? {})) {
      if (name === target && u['public-address']) return u['public-address'];
      const sub = u.subordinates?.[target];
      if (sub && u['public-address']) return u['public-address'];
    }
  }
  throw new SigilError('not-found', `unit "${target}" not found or has no address yet`, 'see `sigil status`');
}

function sshOptions(c: Client): string[] {
  const dir = join(c.entry.dir, 'ssh');
  return ['-i', join(dir, 'id_ed25519'), '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes'];
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
    .argument('<target>', 'unit (app/N) or machine id')
    .argument('[command...]')
    .option('-m, --model <model>', 'model')
    .action(async (target: string, command: string[], o: { model?: string }) => {
      const c = ctx.client(o.model);
      const addr = await address(c, target);
      process.exitCode = await run('ssh', [...sshOptions(c), ...(process.stdin.isTTY && command.length === 0 ? ['-t'] : []), `root@${addr}`, ...command]);
    });

  program
    .command('scp')
    .description('copy files to or from units and machines (write them as <unit or machine>:<path>)')
    .argument('<paths...>')
    .option('-m, --model <model>', 'model')
    .option('-r, --recursive', 'copy directories recursively')
    .action(async (paths: string[], o: { model?: string; recursive?: boolean }) => {
      const c = ctx.client(o.model);
      const args: string[] = o.recursive ? ['-r'] : [];
      for (const p of paths) {
        const m = /^([a-z][a-z0-9-]*\/\d+|\d+):(.*)$/.exec(p);
        args.push(m ? `root@${await address(c, m[1]!)}:${m[2]}` : p);
      }
      process.exitCode = await run('scp', [...sshOptions(c), ...args]);
    });
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DebugHooksTarget } from '@sigil/api';
import { SigilError, checkDebugNames, isSigilError, parseUnitName } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { sshArgs } from './ssh.ts';
import { NO_FLOCK, NO_TMUX, debugClientScript, remoteCommand } from './debug-hooks-script.ts';

async function target(c: Client, unit: string): Promise<DebugHooksTarget> {
  if (!parseUnitName(unit)) throw new SigilError('bad-request', `"${unit.slice(0, 80)}" is not a valid unit name`, 'give a unit as <application>/<number>, e.g. `sigil debug-hooks wordpress/0`');
  try {
    return await c.call('GET /api/models/:model/debug-hooks', { query: { unit } });
  } catch (e) {
    if (isSigilError(e) && e.code === 'forbidden') {
      throw new SigilError('forbidden', `debug-hooks on ${unit} needs write access to model ${c.model}: ${e.message}`, 'ask a model admin to `sigil grant <you> write <model>`');
    }
    throw e;
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
    child.on('error', () => resolve(127));
  });
}

/**
 * Runs the client on the unit's machine: on this host for a local-process controller (its
 * machines are directories here), else over ssh as `sigil ssh` connects, with a terminal.
 */
async function attach(c: Client, t: DebugHooksTarget, names: string[], debugAt: string | undefined): Promise<number> {
  const args = debugAt === undefined ? { hooks: names } : { hooks: names, debugAt };
  if (c.entry.provider === 'local-process') {
    const root = join(c.entry.dir, 'machines', t.model, t.machine);
    if (!existsSync(root)) {
      throw new SigilError('not-found', `machine ${t.machine} of controller "${c.controller}" is not on this host (${root} is missing)`, 'local-process machines are directories on the controller\'s host: run debug-hooks there, with the SIGIL_HOME that bootstrapped it');
    }
    const code = await run('/bin/bash', ['-c', debugClientScript(root, t.unit, args)], process.env);
    if (code === NO_TMUX) throw new SigilError('not-found', `tmux is not installed on this host, where the local-process machine ${t.machine} of ${t.unit} runs; nothing was changed`, 'install it (`sudo apt-get install -y tmux`) and run debug-hooks again');
    if (code === NO_FLOCK) throw new SigilError('not-found', `flock is not installed on this host; nothing was changed`, 'install util-linux (`sudo apt-get install -y util-linux`) and run debug-hooks again');
    return code;
  }
  if (c.entry.provider !== 'lxc') {
    throw new SigilError('bad-request', `debug-hooks needs machines with their own sshd; controller "${c.controller}" uses the ${c.entry.provider} provider`, 'use `sigil exec --unit <unit> -- <command>` to run commands in a hook context');
  }
  // tmux needs a terminal: `-t` whatever stdin is.
  const ssh = [...sshArgs(join(c.entry.dir, 'ssh'), t.address, [], true), remoteCommand(debugClientScript('/', t.unit, args))];
  const code = await run('ssh', ssh, process.env);
  if (code === NO_TMUX) throw new SigilError('not-found', `machine ${t.machine} (of ${t.unit}) has no tmux; nothing was changed`, `install it with \`sigil ssh ${t.machine} -- apt-get install -y tmux\` and run debug-hooks again`);
  if (code === NO_FLOCK) throw new SigilError('not-found', `machine ${t.machine} (of ${t.unit}) has no flock; nothing was changed`, `install it with \`sigil ssh ${t.machine} -- apt-get install -y util-linux\``);
  return code;
}

async function debugRun(ctx: Ctx, unit: string, names: string[], o: { model?: string }, debugAt: string | undefined): Promise<void> {
  const c = ctx.client(o.model);
  const t = await target(c, unit);
  const hooks = checkDebugNames(t.unit, names, t.hooks, t.actions);
  process.exitCode = await attach(c, t, hooks, debugAt);
}

export function registerDebugHooks(program: Command, ctx: Ctx): void {
  program
    .command('debug-hooks')
    .alias('debug-hook')
    .description('launch a tmux session on a unit\'s machine that stops at its next matching hooks and actions, to run them by hand')
    .argument('<unit>', 'unit (app/N)')
    .argument('[names...]', 'hooks or actions to stop at (default: all of them, as "*")')
    .option('-m, --model <model>', 'model')
    .action(async (unit: string, names: string[], o: { model?: string }) => debugRun(ctx, unit, names, o, undefined));

  program
    .command('debug-code')
    .description('launch a tmux session on a unit\'s machine where its next matching hooks and actions run with JUJU_DEBUG_AT set, for charms that stop there themselves')
    .argument('<unit>', 'unit (app/N)')
    .argument('[names...]', 'hooks or actions to debug (default: all of them)')
    .option('-m, --model <model>', 'model')
    .option('--at <where>', 'the value of JUJU_DEBUG_AT, interpreted by the charm for where to stop', 'all')
    .action(async (unit: string, names: string[], o: { model?: string; at: string }) => {
      if (o.at.trim() === '' || o.at.length > 200 || /[\x00-\x1f]/.test(o.at)) throw new SigilError('bad-request', 'invalid --at value', 'give where the charm should stop, e.g. `--at all` or `--at hook`');
      await debugRun(ctx, unit, names, o, o.at);
    });
}

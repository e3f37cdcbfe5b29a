import { Command, CommanderError } from 'commander';
import { isSigilError } from '@sigil/core';
import { Ctx } from './context.ts';
import { registerController } from './commands/controller.ts';
import { registerDeploy, registerRefresh } from './commands/deploy.ts';
import { registerApp } from './commands/app.ts';
import { registerStatus } from './commands/status.ts';
import { registerExec } from './commands/exec.ts';
import { registerDebugLog } from './commands/debug-log.ts';
import { registerWait } from './commands/wait.ts';
import { registerBundle } from './commands/bundle.ts';
import { registerSsh } from './commands/ssh.ts';
import { registerCharm } from './commands/charm.ts';
import { registerGui } from './commands/gui.ts';

const ctx = new Ctx();
const program = new Command('sigil')
  .description('Sigil: deploy, relate, scale and operate applications from Juju charms')
  .version('0.1.0')
  .exitOverride()
  .showSuggestionAfterError()
  .enablePositionalOptions();

registerController(program, ctx);
registerDeploy(program, ctx);
registerRefresh(program, ctx);
registerApp(program, ctx);
registerStatus(program, ctx);
registerExec(program, ctx);
registerDebugLog(program, ctx);
registerWait(program, ctx);
registerBundle(program, ctx);
registerSsh(program, ctx);
registerCharm(program, ctx);
registerGui(program, ctx);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (isSigilError(e)) {
    process.stderr.write(`ERROR ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`ERROR ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

// Commands are done when their handler returns (following commands such as debug-log
// return only when their stream ends); nothing may keep the process alive after that.
process.stdout.write('', () => process.exit());

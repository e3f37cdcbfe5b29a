import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import type { Ctx } from '../context.ts';

export interface GuiLinks {
  controller: string;
  model: string;
  address: string;
  /** The address with the admin token in the fragment, which browsers never send to a server. */
  login: string;
}

/** The GUI's address for the model, after checking that the controller serves it. */
export async function guiLinks(ctx: Ctx, modelFlag: string | undefined): Promise<GuiLinks> {
  const c = ctx.client(modelFlag);
  const { token } = ctx.home.resolve(c.controller);
  await c.get(c.m('/config'));
  const address = `${c.entry.endpoint}/gui/?model=${encodeURIComponent(c.model)}`;
  const status = await c.status(`/gui/?model=${encodeURIComponent(c.model)}`);
  if (status < 200 || status >= 300) {
    throw new SigilError('not-found', `the controller does not serve the GUI (${status} from ${address})`, 'build it with `npm run build` in the Sigil checkout, then `sigil start-controller` if it was running');
  }
  return { controller: c.controller, model: c.model, address, login: `${address}#token=${encodeURIComponent(token)}` };
}

/**
 * The link to open comes first: the bare address shows a login page, which is not where a
 * newcomer means to go. Each address is alone on its line, so it can be copied (or clicked).
 */
export function renderGuiLinks(l: GuiLinks): string {
  return [
    `Open the GUI for model "${l.model}" on controller "${l.controller}" with this link (it logs you in as admin: do not share it):`,
    l.login,
    'The same page without the login, to bookmark or share (it asks for the admin token):',
    l.address,
  ].join('\n');
}

/** A browser opener when there is a display to open it on; undefined on a headless host. */
function opener(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  if (platform === 'darwin') return 'open';
  if (platform === 'linux' && (env.DISPLAY || env.WAYLAND_DISPLAY)) return 'xdg-open';
  return undefined;
}

export function registerGui(program: Command, ctx: Ctx): void {
  program
    .command('gui')
    .description('print a link that opens the web GUI logged in (and its plain address), and open it in a browser if one is available')
    .option('--no-browser', 'only print the links')
    .option('-m, --model <model>', 'model')
    .action(async (o: { browser: boolean; model?: string }) => {
      const links = await guiLinks(ctx, o.model);
      ctx.out(renderGuiLinks(links));
      ctx.info(`The controller's certificate comes from its own CA: have the browser trust ${ctx.home.resolve(links.controller).entry.dir}/tls/ca.crt, and check the CA's fingerprint`);
      const cmd = o.browser ? opener(process.env, process.platform) : undefined;
      if (cmd === undefined) return;
      const child = spawn(cmd, [links.login], { detached: true, stdio: 'ignore' });
      child.on('error', () => ctx.info(`could not start ${cmd}; open the first link above in a browser`));
      child.unref();
      ctx.info(`Opening the GUI in a browser (${cmd})`);
    });
}

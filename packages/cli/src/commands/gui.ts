import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import { certFingerprint } from '@sigil/core/tls';
import type { Ctx } from '../context.ts';

export interface GuiLinks {
  controller: string;
  model: string;
  /** Who the link logs in. */
  user: string;
  address: string;
  /**
   * The login page with a one-time code (2 minutes, single use) that the page trades for a
   * session cookie. Once used or expired the code is worth nothing, so unlike a token it
   * may sit in a URL.
   */
  login: string;
}

/** The GUI's address for the model, after checking that the controller serves it, and a fresh login link. */
export async function guiLinks(ctx: Ctx, modelFlag: string | undefined): Promise<GuiLinks> {
  const c = ctx.client(modelFlag);
  await c.call('GET /api/models/:model/config');
  const query = `model=${encodeURIComponent(c.model)}`;
  const address = `${c.entry.endpoint}/gui/?${query}`;
  const status = await c.status(`/gui/?${query}`);
  if (status < 200 || status >= 300) {
    throw new SigilError('not-found', `the controller does not serve the GUI (${status} from ${address})`, 'build it with `npm run build` in the Sigil checkout, then `sigil start-controller` if it was running');
  }
  // Asked for last, so a failed check above wastes no code.
  const { code, user } = await c.call('POST /api/gui/login-code');
  return { controller: c.controller, model: c.model, user, address, login: `${c.entry.endpoint}/gui/login?${query}&code=${encodeURIComponent(code)}` };
}

/**
 * The link to open comes first: the bare address shows a login page, which is not where a
 * newcomer means to go. Each address is alone on its line, so it can be copied (or clicked).
 */
export function renderGuiLinks(l: GuiLinks): string {
  return [
    `Open the GUI for model "${l.model}" on controller "${l.controller}" with this link (it logs you in as ${l.user}, once, within 2 minutes):`,
    l.login,
    'The same page without the login, to bookmark or share (it asks for a user name and password):',
    l.address,
  ].join('\n');
}

/** How a browser comes to trust the controller: its CA's file, and the fingerprint to compare when importing it. */
export function caNote(dir: string, caPem: string | undefined): string {
  const file = `${dir}/tls/ca.crt`;
  if (caPem === undefined) return `The controller's certificate comes from its own CA: have the browser trust ${file}`;
  return `The controller's certificate comes from its own CA: have the browser trust ${file} (SHA-256 fingerprint ${certFingerprint(caPem)})`;
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
    .description('print a one-time link that opens the web GUI logged in as you (and its plain address), and open it in a browser if one is available')
    .option('--no-browser', 'only print the links')
    .option('-m, --model <model>', 'model')
    .action(async (o: { browser: boolean; model?: string }) => {
      const links = await guiLinks(ctx, o.model);
      ctx.out(renderGuiLinks(links));
      const entry = ctx.home.resolve(links.controller).entry;
      ctx.info(caNote(entry.dir, entry['ca-cert']));
      const cmd = o.browser ? opener(process.env, process.platform) : undefined;
      if (cmd === undefined) return;
      const child = spawn(cmd, [links.login], { detached: true, stdio: 'ignore' });
      child.on('error', () => ctx.info(`could not start ${cmd}; open the first link above in a browser within 2 minutes (or run \`sigil gui\` again)`));
      child.unref();
      ctx.info(`Opening the GUI in a browser (${cmd})`);
    });
}

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import type { Ctx } from '../context.ts';

interface ModelOpt {
  model?: string;
}

const MAX_KEY_FILE = 1024 * 1024;

/**
 * The keys in an authorized_keys-style text (a .pub file, GitHub's USER.keys): one per line,
 * blank lines and `#` comments skipped.
 */
export function keysInText(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function readKeyFile(path: string): string {
  if (/^(gh|lp):/.test(path)) {
    throw new SigilError('bad-request', `cannot import ${path}: Sigil does not fetch keys from GitHub or Launchpad (its hosts have no internet access)`, `save the keys to a file and import that: \`curl -s https://github.com/USER.keys > keys && sigil import-ssh-key keys\` (or pipe them to \`sigil import-ssh-key -\`)`);
  }
  const buf = readFileSync(path === '-' ? 0 : path);
  if (buf.length > MAX_KEY_FILE) throw new SigilError('too-large', `${path === '-' ? 'standard input' : path} is over 1M: not a public key file`, 'pass a .pub file or a list of public keys, one per line');
  return buf.toString('utf8');
}

export function registerSshKeys(program: Command, ctx: Ctx): void {
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(program.command('add-ssh-key'))
    .description('add public SSH keys to a model: every machine\'s root authorized_keys follows within seconds (model admins)')
    .argument('<key...>', 'a whole public key, quoted: "ssh-ed25519 AAAA... comment"; or "$(cat ~/.ssh/id_ed25519.pub)"')
    .action(async (keys: string[], o: ModelOpt) => {
      const c = ctx.client(o.model);
      const added = await c.call('POST /api/models/:model/ssh-keys', { body: { keys } });
      for (const k of added) ctx.info(`added ${k.text}`);
    });

  withModel(program.command('import-ssh-key'))
    .description('add the public SSH keys in files (one per line, as in a .pub file or GitHub\'s USER.keys) to a model; Juju\'s gh:/lp: ids need internet access, which Sigil does not assume: save the keys to a file first')
    .argument('<file...>', 'key files; - reads standard input')
    .action(async (paths: string[], o: ModelOpt) => {
      const keys = paths.flatMap((p) => {
        const found = keysInText(readKeyFile(p));
        if (found.length === 0) throw new SigilError('bad-request', `no public key in ${p === '-' ? 'standard input' : p}`, 'a key file has lines like "ssh-ed25519 AAAA... comment"');
        return found;
      });
      const c = ctx.client(o.model);
      const added = await c.call('POST /api/models/:model/ssh-keys', { body: { keys } });
      for (const k of added) ctx.info(`added ${k.text}`);
    });

  withModel(program.command('remove-ssh-key'))
    .description('remove SSH keys from a model (and from every machine\'s authorized_keys), named by fingerprint or comment')
    .argument('<key...>', 'fingerprint (SHA256:... as `sigil ssh-keys` shows it) or comment')
    .action(async (names: string[], o: ModelOpt) => {
      const c = ctx.client(o.model);
      const removed = await c.call('POST /api/models/:model/ssh-keys/remove', { body: { names } });
      for (const k of removed) ctx.info(`removed ${k.text}`);
    });

  withModel(program.command('ssh-keys').alias('list-ssh-keys'))
    .description('list the SSH keys of a model: their fingerprints and comments, or whole with --full')
    .option('--full', 'show each whole key instead of its fingerprint')
    .action(async (o: ModelOpt & { full?: boolean }) => {
      const c = ctx.client(o.model);
      const keys = await c.call('GET /api/models/:model/ssh-keys');
      if (keys.length === 0) {
        ctx.out('No keys to display.');
        return;
      }
      ctx.out(`Keys used in model: ${c.model}\n${keys.map((k) => (o.full ? k.key : k.text)).join('\n')}`);
    });

  withModel(program.command('rotate-agent-credential'))
    .description('give a machine\'s agent a new credential without redeploying; the old one stops working once the agent has it (model admins)')
    .argument('<machine>', 'machine id')
    .option('--timeout <seconds>', 'how long to wait for the agent to take it (0: do not wait)', '60')
    .action(async (machine: string, o: ModelOpt & { timeout: string }) => {
      if (!/^\d+$/.test(machine)) throw new SigilError('bad-request', `"${machine}" is not a machine id`, 'machines are numbered: see `sigil status`');
      const timeout = Number(o.timeout);
      if (!Number.isFinite(timeout) || timeout < 0) throw new SigilError('bad-request', `invalid --timeout "${o.timeout}"`, 'give seconds, e.g. --timeout 60');
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/machines/:id/rotate-credential', { params: { id: machine } });
      const deadline = Date.now() + timeout * 1000;
      while (Date.now() < deadline) {
        if (!(await c.call('GET /api/models/:model/machines/:id/rotate-credential', { params: { id: machine } })).pending) {
          ctx.out(`machine ${machine}: the agent took a new credential; the old one no longer works`);
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      ctx.out(`machine ${machine}: a new credential is waiting for the agent; the old one works until the agent takes it`);
      if (timeout > 0) {
        throw new SigilError('timeout', `the agent of machine ${machine} did not take its new credential within ${timeout}s`, 'is it running? `sigil status` shows whether it is up; it takes the credential as soon as it reconnects');
      }
    });
}

import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { renderList } from '../render/output.ts';
import { secretFrom } from './schedule.ts';

/**
 * `sigil notify add|list|remove`: webhooks (JSON, HMAC-SHA256 signed) and XMPP chat rooms
 * told about deploys, refreshes, unit errors, lost machines, backups and drills.
 */
export function registerNotify(program: Command, ctx: Ctx): void {
  const notify = program.command('notify').description('send events to a webhook or an XMPP chat room');
  const client = (controller?: string) => {
    const { name, entry, token } = ctx.home.resolve(controller);
    return new Client(name, entry, token, entry['current-model']);
  };

  notify
    .command('add')
    .description('add a webhook (--webhook URL) or an XMPP room (--xmpp JID --room ROOM); a test message is sent first')
    .argument('<name>')
    .option('--webhook <url>', 'POST a JSON body to this URL')
    .option('--secret-file <file>', 'webhook: sign bodies with HMAC-SHA256 under the secret in this file (else $SIGIL_WEBHOOK_SECRET)')
    .option('--xmpp <jid>', 'XMPP: the account messages come from')
    .option('--room <room>', 'XMPP: the multi-user chat room (room@conference.example.org)')
    .option('--password-file <file>', "XMPP: the account's password (else $SIGIL_XMPP_PASSWORD)")
    .option('--xmpp-server <host:port>', 'XMPP: the server, when not the JID\'s domain on port 5222')
    .option('--events <list>', 'comma-separated: deploy, refresh-started, refresh-finished, refresh-halted, unit-error, machine-lost, backup-done, backup-failed, drill-result (default all)', 'all')
    .option('-c, --controller <name>', 'controller')
    .action(async (name: string, o: { webhook?: string; secretFile?: string; xmpp?: string; room?: string; passwordFile?: string; xmppServer?: string; events: string; controller?: string }) => {
      if ((o.webhook === undefined) === (o.xmpp === undefined)) throw new SigilError('bad-request', 'give one of --webhook URL or --xmpp JID', 'sigil notify add NAME --webhook https://host/hook, or --xmpp bot@example.org --room ops@conference.example.org');
      const events = o.events.split(',').map((e) => e.trim()).filter((e) => e !== '');
      const body = o.webhook !== undefined
        ? { name, kind: 'webhook', address: o.webhook, events, ...opt('secret', secretFrom(o.secretFile, 'SIGIL_WEBHOOK_SECRET', 'webhook secret')) }
        : { name, kind: 'xmpp', address: o.xmpp!, room: o.room ?? '', events, ...opt('server', o.xmppServer), ...opt('secret', secretFrom(o.passwordFile, 'SIGIL_XMPP_PASSWORD', 'XMPP password')) };
      const r = await client(o.controller).call('POST /api/notify', { body });
      ctx.out(`added notification ${r.added} (test message delivered) for ${r.events.join(', ')}`);
    });

  notify
    .command('list')
    .description('list notification targets and how their deliveries went')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { controller?: string; format?: string }) => {
      const { targets } = await client(o.controller).call('GET /api/notify');
      ctx.print({ notifications: Object.fromEntries(targets.map((t) => [t.name, t])) }, o.format, () =>
        renderList(['Name', 'Kind', 'To', 'Events', 'Delivered', 'Failed', 'Pending', 'Last error'], targets.map((t) => [t.name, t.kind, t.kind === 'xmpp' ? `${t.room} (as ${t.address})` : t.address, t.events.length === 9 ? 'all' : t.events.join(','), String(t.delivered), String(t.failed), String(t.pending), t['last-error'] || '-']), { empty: 'No notifications. Add one with `sigil notify add NAME --webhook URL`.' }));
    });

  notify
    .command('remove')
    .description('remove a notification target (its undelivered messages go with it)')
    .argument('<name>')
    .option('-c, --controller <name>', 'controller')
    .action(async (name: string, o: { controller?: string }) => {
      await client(o.controller).call('DELETE /api/notify/:name', { params: { name } });
      ctx.out(`removed notification ${name}`);
    });
}

function opt<K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, string>);
}

import type { Command } from 'commander';
import YAML from 'yaml';
import { SigilError, looksLikeOfferUrl, parseContainerPlacement, parseDuration, splitOfferEndpoint } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { parseConfigArgs } from './deploy.ts';
import { consumeOffer } from './offers.ts';

interface ModelOpt {
  model?: string;
}

export function registerApp(program: Command, ctx: Ctx): void {
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(program.command('integrate').alias('relate').alias('add-relation'))
    .description('relate two applications')
    .argument('<a>', 'app[:endpoint]')
    .argument('<b>', 'app[:endpoint], or an offer URL ([controller:][user/]model.offer[:endpoint])')
    .option('--via <cidrs>', 'accepted for Juju compatibility (cross-model egress subnets; one controller needs none)')
    .action(async (a: string, b: string, o: ModelOpt) => {
      const c = ctx.client(o.model);
      // As Juju: an offer URL on either side is consumed first (under the offer's name), then related.
      const side = async (x: string) => {
        if (!looksLikeOfferUrl(x)) return x;
        const { url, endpoint, source } = splitOfferEndpoint(x);
        const alias = await consumeOffer(ctx, o.model, source === undefined ? url : `${source}:${url}`);
        return endpoint === undefined ? alias : `${alias}:${endpoint}`;
      };
      await c.call('POST /api/models/:model/relations', { body: { a: await side(a), b: await side(b) } });
    });

  withModel(program.command('remove-relation'))
    .description('remove a relation')
    .argument('<a>', 'app[:endpoint], or a relation id')
    .argument('[b]', 'app[:endpoint]')
    .action(async (a: string, b: string | undefined, o: ModelOpt) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/relations/remove', { body: b === undefined ? { a } : { a, b } });
    });

  withModel(program.command('config'))
    .description('get or set application configuration')
    .argument('<application>')
    .argument('[settings...]', 'key (to read one) or key=value pairs')
    .option('--reset <keys>', 'comma-separated keys to reset to their defaults')
    .option('--file <file>', 'YAML file of options')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action(async (app: string, settings: string[], o: ModelOpt & { reset?: string; file?: string; format: string }) => {
      const c = ctx.client(o.model);
      const assignments = settings.filter((s) => s.includes('='));
      const keys = settings.filter((s) => !s.includes('='));
      if (assignments.length > 0 && keys.length > 0) throw new SigilError('bad-request', 'cannot mix reading and setting keys', 'use `sigil config app key` or `sigil config app key=value ...`');
      const set = parseConfigArgs([...(o.file ? [o.file] : []), ...assignments], app);
      const reset = o.reset ? o.reset.split(',').map((s) => s.trim()).filter(Boolean) : [];
      if (Object.keys(set).length > 0 || reset.length > 0) {
        await c.call('POST /api/models/:model/applications/:app/config', { params: { app }, body: { set, reset } });
        return;
      }
      const doc = await c.call('GET /api/models/:model/applications/:app/config', { params: { app } });
      if (keys.length > 1) throw new SigilError('bad-request', 'only one key can be read at a time');
      if (keys.length === 1) {
        const s = doc.settings[keys[0]!];
        if (!s) throw new SigilError('invalid-config', `unknown option "${keys[0]}" for application "${app}"`, `valid options: ${Object.keys(doc.settings).join(', ')}`);
        ctx.out(s.value === undefined ? '' : String(s.value));
        return;
      }
      ctx.print(doc, o.format, () => YAML.stringify(doc));
    });

  withModel(program.command('add-unit'))
    .description('add units to an application')
    .argument('<application>')
    .option('-n, --num-units <n>', 'number of units', '1')
    .option('--to <placement>', 'machine id, "new", or lxc:N for a new container on machine N (comma-separated)')
    .action(async (app: string, o: ModelOpt & { numUnits: string; to?: string }) => {
      const c = ctx.client(o.model);
      const n = Number(o.numUnits);
      if (!Number.isInteger(n) || n < 1) throw new SigilError('bad-request', `invalid --num-units "${o.numUnits}"`, 'give a whole number of at least 1');
      const r = await c.call('POST /api/models/:model/applications/:app/units', { params: { app }, body: { n, to: o.to ? o.to.split(',') : [] } });
      ctx.info(`added ${r.units.join(', ')}`);
    });

  withModel(program.command('remove-unit'))
    .description('remove units')
    .argument('<units...>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .option('--destroy-storage', 'destroy the units\' storage instead of detaching and keeping it')
    .action(async (units: string[], o: ModelOpt & { yes?: boolean; prompt?: boolean; destroyStorage?: boolean }) => {
      const c = ctx.client(o.model);
      await ctx.confirm(`remove ${units.join(', ')}`, o);
      await c.call('POST /api/models/:model/units/remove', { body: { names: units, ...(o.destroyStorage ? { destroyStorage: true } : {}) } });
      ctx.info(`will remove ${units.join(', ')}`);
    });

  withModel(program.command('remove-application'))
    .description('remove applications and their units')
    .argument('<applications...>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .option('--destroy-storage', 'destroy the units\' storage instead of detaching and keeping it')
    .action(async (apps: string[], o: ModelOpt & { yes?: boolean; prompt?: boolean; destroyStorage?: boolean }) => {
      const c = ctx.client(o.model);
      await ctx.confirm(`remove application${apps.length > 1 ? 's' : ''} ${apps.join(', ')}`, o);
      for (const a of apps) await c.call('DELETE /api/models/:model/applications/:app', { params: { app: a }, query: o.destroyStorage ? { destroyStorage: true } : {} });
      ctx.info(`will remove ${apps.join(', ')}`);
    });

  for (const [verb, exposed] of [['expose', true], ['unexpose', false]] as const) {
    withModel(program.command(verb))
      .description(exposed ? "make an application's opened ports reachable" : 'withdraw exposure')
      .argument('<application>')
      .action(async (app: string, o: ModelOpt) => {
        const c = ctx.client(o.model);
        await c.call('POST /api/models/:model/applications/:app/expose', { params: { app }, body: { exposed } });
      });
  }

  withModel(program.command('resolve').alias('resolved'))
    .description('resolve a unit whose hook failed (re-runs the hook unless --no-retry)')
    .argument('[units...]')
    .option('--no-retry', 'mark the failed hook done without running it again')
    .option('--all', 'resolve every unit in error')
    .action(async (units: string[], o: ModelOpt & { retry: boolean; all?: boolean }) => {
      const c = ctx.client(o.model);
      let targets = units;
      if (o.all) {
        const st = await c.call('GET /api/models/:model/status');
        targets = Object.values(st.applications).flatMap((a) => Object.entries(a.units ?? {}).flatMap(([n, u]) => [[n, u] as const, ...Object.entries(u.subordinates ?? {})]))
          .filter(([, u]) => u['workload-status'].current === 'error').map(([n]) => n);
      }
      if (targets.length === 0) throw new SigilError('bad-request', o.all ? 'no units are in error' : 'no unit given', 'e.g. `sigil resolve sink/1`');
      for (const unit of targets) await c.call('POST /api/models/:model/resolve', { body: { unit, retry: o.retry } });
    });

  withModel(program.command('add-machine'))
    .description('add machines: new ones from the provider, an existing host over ssh (ssh:[USER@]HOST[:PORT]), or LXC containers on a machine (lxc:N)')
    .argument('[placement]', 'ssh:[USER@]HOST[:PORT] to enlist an existing host (Juju\'s manual provider); lxc:N (or lxd:N) for a container on machine N')
    .option('-n <n>', 'number of machines', '1')
    .option('--constraints <constraints>', 'machine constraints', '')
    .option('--private-key <file>', 'ssh: the private key to log in with (default: ssh\'s own, ssh-agent)')
    .option('--accept-host-key', 'ssh: trust an unknown host key on first use (its fingerprint is printed and added to known_hosts); a changed key is always refused')
    .option('--known-hosts <file>', 'ssh: the known_hosts file to check the host key against (default: ~/.ssh/known_hosts)')
    .option('--timeout <duration>', 'ssh: how long to wait for the agent to connect', '60s')
    .option('--series <series>', 'ssh: refuse the host unless it runs this series (os-release codename, e.g. bookworm)')
    .option('--base <base>', 'ssh: refuse the host unless it runs this base (NAME@CHANNEL, e.g. debian@12)')
    .action(async (placement: string | undefined, o: ModelOpt & { n: string; constraints: string; privateKey?: string; acceptHostKey?: boolean; knownHosts?: string; timeout: string; series?: string; base?: string }) => {
      const c = ctx.client(o.model);
      if ((o.series !== undefined || o.base !== undefined) && !placement?.startsWith('ssh:')) {
        throw new SigilError('bad-request', '--series and --base check an existing host: they go with an ssh: placement', `machines this controller makes run its own image (debian@12); to check a host, \`sigil add-machine ssh:USER@HOST --series bookworm\``);
      }
      if (placement !== undefined) {
        const container = parseContainerPlacement(placement);
        if (container) {
          const r = await c.call('POST /api/models/:model/machines', { body: { n: Number(o.n), constraints: o.constraints, container } });
          ctx.info(r.machines.map((m) => `created container ${m}`).join('\n'));
          return;
        }
        if (!placement.startsWith('ssh:')) throw new SigilError('bad-request', `unknown placement "${placement}"`, 'give ssh:[USER@]HOST[:PORT] to enlist a host, or lxc:N (lxd:N) for a container on machine N');
        if (o.n !== '1') throw new SigilError('bad-request', '-n cannot be used with an ssh: placement', 'enlist one host per add-machine');
        const { enlist } = await import('../enlist/enlist.ts');
        ctx.info(`enlisting ${placement}`);
        const r = await enlist(c, placement, {
          acceptHostKey: o.acceptHostKey === true,
          timeoutMs: parseDuration(o.timeout),
          progress: (line) => ctx.info(`  ${line}`),
          ...(o.privateKey ? { privateKey: o.privateKey } : {}),
          ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}),
          ...(o.series ? { series: o.series } : {}),
          ...(o.base ? { base: o.base } : {}),
        });
        ctx.info(`created machine ${r.machine} (${placement}) in ${(r.ms / 1000).toFixed(1)} s`);
        return;
      }
      const r = await c.call('POST /api/models/:model/machines', { body: { n: Number(o.n), constraints: o.constraints } });
      ctx.info(r.machines.map((m) => `created machine ${m}`).join('\n'));
    });

  withModel(program.command('remove-machine'))
    .description('remove machines')
    .argument('<ids...>')
    .option('--force', 'also remove the units on them')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-prompt', 'do not ask for confirmation (as Juju)')
    .action(async (ids: string[], o: ModelOpt & { force?: boolean; yes?: boolean; prompt?: boolean }) => {
      const c = ctx.client(o.model);
      await ctx.confirm(`remove machine${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`, o);
      await c.call('POST /api/models/:model/machines/remove', { body: { names: ids, force: o.force === true } });
    });
}

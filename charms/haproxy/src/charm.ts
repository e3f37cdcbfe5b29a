/**
 * The haproxy charm, holistic: every relation, config and update event ends in one
 * `reconcile` that rebuilds haproxy.cfg from all it can see and converges HAProxy to it
 * (seamless reload only when the file changed; busy units drained over the runtime API).
 */
import YAML from 'yaml';
import { Charm, StatusError, active, blocked, maintenance, password, type Context } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { portsOf, render, serverStates } from './render.ts';
import { plan, type UnitBag } from './services.ts';
import { SettingsError, parseSettings, type Settings } from './settings.ts';
import { InvalidConfigError, SystemWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

export function build(w: Workload) {
  const charm = new Charm(spec);

  const install = async (ctx: Ctx) => {
    await ctx.setStatus(maintenance('installing haproxy'));
    await w.install();
    await ctx.setWorkloadVersion(await w.version());
  };
  charm.on.install(install);
  charm.on.upgradeCharm(install);
  charm.on.stop(async () => w.stop());

  charm.on.action('stats-credentials', async (ctx, ev) => {
    const s = await settings(ctx);
    if (ctx.config['stats-port'] === 0) throw new Error('the statistics page is off (stats-port=0)');
    if (s.statsPort === 0) throw new Error('no statistics password yet: the leader generates it; try again once the units are active');
    await ev.set({ url: `http://${await ctx.address()}:${s.statsPort}/`, user: s.statsUser, password: s.statsPassword });
  });

  charm.reconcile(async (ctx) => {
    // After stop the service stays stopped; remove never reconciles.
    if (ctx.event.kind === 'lifecycle' && ctx.event.hook === 'stop') return;
    const s = await settings(ctx);
    const units: UnitBag[] = [];
    for (const rel of await ctx.relations('reverseproxy')) {
      for (const [unit, data] of Object.entries(await rel.unitsData())) units.push({ unit, data });
    }
    const p = plan(s, units);
    for (const warning of p.warnings) await ctx.log.warning(warning);
    let applied;
    try {
      applied = await w.apply(render(p, s, ctx.unitName), serverStates(p));
    } catch (e) {
      if (!(e instanceof InvalidConfigError)) throw e;
      await ctx.log.error(e.output);
      throw new StatusError(blocked`${e.message} (still serving the last good configuration; see debug-log)`);
    }
    if (applied !== 'unchanged') await ctx.log.info(`haproxy ${applied}: ${p.services.map((x) => `${x.name} :${x.port} ${x.servers.length} servers`).join(', ')}`);
    await ctx.setPorts(portsOf(p, s));

    const address = await ctx.address();
    const allServices = YAML.stringify(p.services.map((x) => ({ service_name: x.name, service_host: x.host, service_port: x.port })));
    for (const rel of await ctx.relations('website')) await rel.local.update({ hostname: address, port: s.listenPort, all_services: allServices });
    for (const rel of await ctx.relations('reverseproxy')) await rel.local.update({ 'public-address': address });

    const servers = p.services.flatMap((x) => x.servers);
    const busy = servers.filter((x) => x.busy).length;
    const parts = [`${servers.length} server${servers.length === 1 ? '' : 's'} behind :${s.listenPort}`];
    if (busy) parts.push(`${busy} busy`);
    if (p.warnings.length) parts.push(`${p.warnings.length} relation setting${p.warnings.length === 1 ? '' : 's'} ignored (see debug-log)`);
    await ctx.setStatus(active(parts.join(', ')));
  });

  return charm;
}

/** The application-owned secret with the statistics page's generated password, shared by every unit. */
const STATS_SECRET = 'haproxy-stats';
/** Leader data: bumped when the leader writes the secret, so the other units hear of it. */
const STATS_VERSION = 'stats-secret-version';

/**
 * The generated statistics password: the leader makes it once into an application secret
 * (taking the one a unit generated into its own state before secrets, then deleting that);
 * other units read it, and keep the page off until there is one.
 */
async function generatedPassword(ctx: Ctx): Promise<string | undefined> {
  const have = (await ctx.appSecret(STATS_SECRET))?.password;
  if (have || !ctx.isLeader) return have;
  const old = await ctx.getStored('stats-password');
  const made = old || password(20);
  await ctx.setAppSecret(STATS_SECRET, { password: made });
  await ctx.setLeaderData({ [STATS_VERSION]: String(Number((await ctx.leaderData())[STATS_VERSION] ?? '0') + 1) });
  if (old) await ctx.setStored({ 'stats-password': '' });
  return made;
}

/** The checked configuration; a bad option blocks the unit and leaves HAProxy as it is. */
async function settings(ctx: Ctx): Promise<Settings> {
  const own = ctx.config['stats-password'] !== '';
  const generated = own ? undefined : await generatedPassword(ctx);
  try {
    return parseSettings(ctx.config, generated);
  } catch (e) {
    if (e instanceof SettingsError) throw new StatusError(blocked`${e.message}`);
    throw e;
  }
}

export default build(new SystemWorkload());

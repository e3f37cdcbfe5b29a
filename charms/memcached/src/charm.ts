import { Charm, type Context, active, maintenance } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { type Settings, plan, render, runningPort, settingsFrom } from './settings.ts';
import { MachineWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

/** At most this many lines of memcached output go to debug-log per hook; the journal keeps them all. */
export const MAX_FORWARDED = 200;

export function build(w: Workload) {
  const charm = new Charm(spec);

  const install = async (ctx: Ctx) => {
    await ctx.setStatus(maintenance('installing memcached'));
    await w.install();
    await ctx.setWorkloadVersion(await w.version());
  };
  charm.on.install(install);
  charm.on.upgradeCharm(install);
  charm.on.stop(() => w.stop());

  // Holistic: one convergence after every hook, and once for a batch of config, relation and
  // update-status events, so N related units do not cost N restarts' worth of checks.
  charm.reconcile(async (ctx) => {
    if (ctx.event.kind === 'lifecycle' && ctx.event.hook === 'stop') return;
    await forwardOutput(ctx, w);
    // A bad value throws StatusError(blocked) here, before anything is written: memcached
    // keeps running on its last good configuration.
    const s = settingsFrom(ctx.config);
    await apply(ctx, w, s);
    await ctx.setPorts([s.tcpPort, ...(s.udpPort ? [{ port: s.udpPort, protocol: 'udp' as const }] : [])]);
    await publish(ctx, s);
    const debug = s.debug ? '; debug: verbose, output in debug-log' : '';
    await ctx.setStatus(active`ready on port ${s.tcpPort}: ${s.size} MB, ${s.connectionLimit} connections${debug}`);
  });

  charm.on.action('stats', async (_ctx, ev) => {
    const port = runningPort(await w.readConfig());
    if (port === undefined) throw new Error('memcached is not configured yet: wait for the unit to be active');
    const stats = await w.stats(port);
    // Action result keys are lowercase words joined by hyphens (Juju's rule).
    await ev.set(Object.fromEntries(Object.entries(stats).map(([k, v]) => [k.replaceAll('_', '-'), v])));
  });

  return charm;
}

/**
 * Brings memcached to the settings, restarting it only when its options changed. The file is
 * written after a successful in-place change, so a failed hook retries it.
 */
async function apply(ctx: Ctx, w: Workload, s: Settings): Promise<void> {
  const current = await w.readConfig();
  const wanted = render(s);
  const p = plan(current, wanted);
  if (p.kind === 'restart' || !(await w.running())) {
    if (current !== wanted) await w.writeConfig(wanted);
    await ctx.log.info(p.kind === 'restart' ? 'restarting memcached: its options changed' : 'starting memcached: it was not running');
    await w.restart();
    return;
  }
  if (p.kind === 'verbosity') {
    await w.setVerbosity(s.tcpPort, p.level);
    await ctx.log.info(`memcached verbosity is now ${p.level}, set in place without a restart`);
  }
  if (current !== wanted) await w.writeConfig(wanted);
}

/** The keys Juju's memcached charm publishes on `cache`, on every relation, when they changed. */
async function publish(ctx: Ctx, s: Settings): Promise<void> {
  const relations = await ctx.relations('cache');
  if (relations.length === 0) return;
  const want: Record<string, string> = { host: await ctx.address(), port: String(s.tcpPort), 'udp-port': String(s.udpPort) };
  for (const rel of relations) {
    const have = await rel.local.read();
    if (Object.entries(want).some(([k, v]) => have[k] !== v)) await rel.local.update(want);
  }
}

/**
 * Forwards what memcached printed since the previous hook to debug-log. juju-log works only
 * inside a hook, so output reaches debug-log at the next hook: update-status at the latest
 * (shorten update-status-hook-interval while debugging).
 */
async function forwardOutput(ctx: Ctx, w: Workload): Promise<void> {
  let lines: string[];
  try {
    lines = await w.newLogLines();
  } catch (e) {
    await ctx.log.warning(`cannot read memcached's journal: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const skipped = lines.length - MAX_FORWARDED;
  if (skipped > 0) await ctx.log.info(`memcached: ${skipped} earlier lines skipped (journalctl -u memcached has them all)`);
  for (const line of lines.slice(-MAX_FORWARDED)) await ctx.log.info(`memcached: ${line}`);
}

export default build(new MachineWorkload());

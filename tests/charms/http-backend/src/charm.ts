/**
 * http-backend: a web backend for testing load balancers. Publishes on `website` (Juju's
 * `http` interface) `hostname` and `port`, plus `check-port` (where health checks go) and
 * `busy: "true"` while the `busy` action has marked it busy.
 */
import { Charm, StatusError, active, blocked, type Context } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { SystemWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

export function build(w: Workload) {
  const charm = new Charm(spec);

  charm.on.configChanged(async (ctx) => {
    const { port, workers } = ctx.config;
    const checkPort = ctx.config['check-port'];
    for (const [option, v] of [['port', port], ['check-port', checkPort]] as const) {
      if (!Number.isInteger(v) || v < 1024 || v > 65535) throw new StatusError(blocked(`${option}=${v} is out of range: use 1024-65535`));
    }
    if (port === checkPort) throw new StatusError(blocked(`check-port=${checkPort} is also port: health checks need their own port`));
    if (workers < 1 || workers > 64) throw new StatusError(blocked(`workers=${workers} is out of range: use 1-64`));
    const did = await w.configure({ unit: ctx.unitName, port, checkPort, workers });
    if (did !== 'unchanged') await ctx.log.info(`http-backend ${did} on :${port} (checks on :${checkPort})`);
    await ctx.setPorts([port]);
    await publish(ctx);
  });

  charm.on.relationJoined('website', async (ctx) => void (await publish(ctx)));

  charm.on.action('busy', async (ctx, ev) => {
    const busy = ev.params.state;
    await ctx.setStored({ busy: String(busy) });
    const relations = await publish(ctx);
    await ev.set({ busy, relations });
  });

  charm.on.stop(async () => w.stop());
  charm.on.remove(async () => w.remove());
  return charm;
}

/** Writes this unit's keys on every website relation and its status; returns how many relations. */
async function publish(ctx: Ctx): Promise<number> {
  const busy = (await ctx.getStored('busy')) === 'true';
  const relations = await ctx.relations('website');
  const data = { hostname: await ctx.address(), port: ctx.config.port, 'check-port': ctx.config['check-port'], busy: busy ? 'true' : null };
  for (const rel of relations) await rel.local.update(data);
  await ctx.setStatus(active(`${ctx.unitName} on :${ctx.config.port}${busy ? ', busy' : ''}`));
  return relations.length;
}

export default build(new SystemWorkload());

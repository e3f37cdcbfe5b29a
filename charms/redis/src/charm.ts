import { Charm, type Context, StatusError, active, maintenance, password, waiting } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { type Settings, parse, plan, render, settingsFrom } from './settings.ts';
import { MachineWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

export function build(w: Workload, newPassword: () => string = password) {
  const charm = new Charm(spec);

  const install = async (ctx: Ctx) => {
    await ctx.setStatus(maintenance('installing redis-server'));
    await w.install();
    await ctx.setWorkloadVersion(await w.version());
  };
  charm.on.install(install);
  charm.on.upgradeCharm(install);
  charm.on.stop(() => w.stop());

  // Holistic: one convergence after every hook, and once for a batch of config, relation,
  // leader-settings and update-status events.
  charm.reconcile(async (ctx) => {
    if (ctx.event.kind === 'lifecycle' && ctx.event.hook === 'stop') return;
    const pw = await sharedPassword(ctx, newPassword);
    if (!pw) throw new StatusError(waiting('waiting for the leader to generate the password'));
    // A bad value throws StatusError(blocked) here, before anything is written: Redis keeps
    // running on its last good configuration.
    const s = settingsFrom(ctx.config, pw);
    await apply(ctx, w, s);
    await ctx.setPorts([s.port]);
    await publish(ctx, s);
    await ctx.setStatus(active`ready on port ${s.port}, persistence ${s.persistence}`);
  });

  return charm;
}

/** The application's Juju secret holding the password (redis-k8s keeps its password in one too). */
export const PASSWORD_SECRET = 'redis-password';

/**
 * The password every unit requires: generated once by the leader and kept in an
 * application-owned Juju secret that every unit reads. Leader data says only that it exists
 * (so the other units hear of it); a password an older revision kept in leader data is moved
 * into the secret by the leader and deleted there.
 */
async function sharedPassword(ctx: Ctx, generate: () => string): Promise<string | undefined> {
  const secret = (await ctx.appSecret(PASSWORD_SECRET))?.password;
  if (secret) return secret;
  const legacy = (await ctx.leaderData()).password;
  if (!ctx.isLeader) return legacy || undefined;
  const pw = legacy || generate();
  await ctx.setAppSecret(PASSWORD_SECRET, { password: pw });
  await ctx.setLeaderData({ password: '', 'password-secret': PASSWORD_SECRET });
  return pw;
}

/**
 * Brings Redis to the settings: CONFIG SET for what it changes at run time, a restart for the
 * rest. The file is written after a successful CONFIG SET, so a failed hook retries it.
 */
async function apply(ctx: Ctx, w: Workload, s: Settings): Promise<void> {
  const current = await w.readConfig();
  const wanted = render(s);
  const p = plan(current, wanted);
  if (p.kind === 'restart' || !(await w.running())) {
    if (current !== wanted) await w.writeConfig(wanted);
    await ctx.log.info(p.kind === 'restart' ? 'restarting redis: directives that need a restart changed' : 'starting redis: it was not running');
    await w.restart();
    return;
  }
  if (p.kind === 'set') {
    await w.configSet(s.port, parse(current).get('requirepass') ?? '', p.values);
    await ctx.log.info(`applied ${p.values.map(([k]) => k).join(', ')} with CONFIG SET, without a restart`);
  }
  if (current !== wanted) await w.writeConfig(wanted);
}

/**
 * On every relation, when they changed, the keys Juju's Redis charms publish: hostname,
 * port and password (the classic redis charm; redis-k8s's library reads hostname and port),
 * and host, which the reactive redis interface layer reads instead of hostname.
 */
async function publish(ctx: Ctx, s: Settings): Promise<void> {
  const relations = await ctx.relations('redis');
  if (relations.length === 0) return;
  const address = await ctx.address();
  const want: Record<string, string> = { hostname: address, host: address, port: String(s.port), password: s.password };
  for (const rel of relations) {
    const have = await rel.local.read();
    if (Object.entries(want).some(([k, v]) => have[k] !== v)) await rel.local.update(want);
  }
}

export default build(new MachineWorkload());

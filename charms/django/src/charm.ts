import { Charm, type Context, StatusError, active, blocked, maintenance, password, waiting } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { ConfigError, type Settings, allowedHosts, describeSource, settingsFrom, settingsModuleOf } from './config.ts';
import { cacheServers, databaseFrom, databaseName, type Database } from './relations.ts';
import { migrationKey, renderService, renderSettings, servedRelease, type Release } from './render.ts';
import { MachineWorkload, SourceError, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

/** Leader data: the SECRET_KEY every unit uses, and the release and database migrations last ran for. */
export const SECRET_KEY = 'secret-key';
export const MIGRATED = 'migrated';
/** Unit state: the source last prepared, the release it gave, and the settings module its manage.py names. */
const SOURCE_KEY = 'source-key';
const RELEASE = 'release';
const MANAGE_MODULE = 'manage-settings-module';

export function build(w: Workload) {
  const charm = new Charm(spec);

  const install = async (ctx: Ctx) => {
    await ctx.setStatus(maintenance('installing Django and gunicorn'));
    await w.install();
    await ctx.setWorkloadVersion(await w.djangoVersion());
  };
  charm.on.install(install);
  charm.on.upgradeCharm(install);
  charm.on.stop(() => w.stop());

  // Holistic: one level-based convergence after every hook (and once for a batch of
  // relation, config and leader events), so the order events arrive in never matters.
  charm.reconcile(async (ctx) => {
    if (ctx.event.kind === 'lifecycle' && ctx.event.hook === 'stop') return;
    const e = ctx.event;
    const broken = e.kind === 'relation' && e.hook === 'relation-broken' ? e.relationId : undefined;
    // A directory source is cheap to reread, so config-changed and upgrade-charm (a new
    // demo in the charm) look again; a git source is fetched only when it changed or on
    // the redeploy action, so a flaky remote never blocks an unrelated hook.
    const reread = e.kind === 'lifecycle' && (e.hook === 'config-changed' || e.hook === 'upgrade-charm');
    await converge(ctx, w, { broken, reread, refetch: false });
  });

  charm.on.action('redeploy', async (ctx, ev) => {
    try {
      await converge(ctx, w, { broken: undefined, reread: true, refetch: true });
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      await ctx.setStatus(e.status);
      throw new Error(e.status.message);
    }
    await ev.set({ release: (await ctx.getStored(RELEASE)) ?? '' });
  });

  charm.on.action('create-superuser', async (ctx, ev) => {
    if (!(await w.readSettings()).includes('"ENGINE"')) throw new Error(`${ctx.unitName} has no database yet: relate django to postgresql and wait for the unit to be active`);
    const pw = ev.params.password || password(16);
    const outcome = await w.createSuperuser(ev.params.username, ev.params.email ?? '', pw);
    await ctx.log.info(`superuser ${ev.params.username} ${outcome}`);
    await ev.set({ username: ev.params.username, outcome, ...(ev.params.password ? {} : { password: pw }) });
  });

  return charm;
}

interface Options {
  /** A relation being broken: relation-ids still lists it during relation-broken. */
  broken: number | undefined;
  /** Read a directory source again even if the config did not change. */
  reread: boolean;
  /** Fetch a git source again even if the config did not change. */
  refetch: boolean;
}

/**
 * Brings the unit to what the config, relations and leader data say: prepare and build the
 * release, write the settings, migrate (leader, once per release and database), then start
 * or reload gunicorn. Non-leaders serve a release only after the leader migrated for it.
 */
async function converge(ctx: Ctx, w: Workload, o: Options): Promise<void> {
  let s: Settings;
  try {
    s = settingsFrom(ctx.config);
  } catch (e) {
    if (e instanceof ConfigError) throw new StatusError(blocked(e.message));
    throw e;
  }
  const address = await ctx.address();
  await ctx.setPorts([s.port]);
  for (const rel of await ctx.relations('website')) await updateIfChanged(rel.local, { hostname: address, port: String(s.port) });

  let leader = await ctx.leaderData();
  if (ctx.isLeader && !leader[SECRET_KEY]) {
    await ctx.setLeaderData({ [SECRET_KEY]: password(50) });
    leader = await ctx.leaderData();
  }

  const { release, settingsModule } = await prepare(ctx, w, s, o);

  const dbRelations = (await ctx.relations('db')).filter((r) => r.id !== o.broken);
  if (dbRelations.length === 0) {
    if (await w.running()) {
      await w.stop();
      await ctx.log.info('stopped gunicorn: the db relation is gone');
    }
    throw new StatusError(blocked('needs a PostgreSQL database: sigil integrate django postgresql'));
  }
  const wanted = databaseName(ctx.appName);
  let db: Database | undefined;
  for (const rel of dbRelations) {
    await updateIfChanged(rel.local, { database: wanted });
    db ??= databaseFrom(await rel.unitsData(), ctx.unitName, wanted);
  }
  if (!db) throw new StatusError(waiting`waiting for ${dbRelations.map((r) => r.app).join(', ')} to grant database ${wanted}`);

  const secretKey = leader[SECRET_KEY];
  if (!secretKey) throw new StatusError(waiting('waiting for the leader to generate the SECRET_KEY'));

  const key = migrationKey(release.id, db);
  if (leader[MIGRATED] !== key && !ctx.isLeader) {
    throw new StatusError(waiting`waiting for the leader to run migrations for ${release.id}${(await w.running()) ? ' (serving the previous release meanwhile)' : ''}`);
  }

  const cacheUnits = (await ctx.relations('cache')).filter((r) => r.id !== o.broken);
  const servers = cacheServers(Object.assign({}, ...(await Promise.all(cacheUnits.map((r) => r.unitsData())))));
  const settingsText = renderSettings({
    release,
    settingsModule,
    debug: s.debug,
    secretKey,
    allowedHosts: allowedHosts(s, address),
    database: db,
    cacheServers: servers,
    cachePrefix: ctx.appName,
  });
  const previous = servedRelease(await w.readSettings());
  const settingsChanged = await w.writeSettings(settingsText);

  if (leader[MIGRATED] !== key) {
    await ctx.setStatus(maintenance`running migrations for ${release.id}`);
    const out = await w.migrate().catch((e: unknown) => {
      throw new Error(`migrations for ${release.id} failed (the hook is retried): ${e instanceof Error ? e.message : String(e)}`);
    });
    await ctx.log.info(`migrations for ${release.id} on ${db.host}/${db.name}: ${out.trim().split('\n').slice(-3).join(' / ') || 'nothing to apply'}`);
    await ctx.setLeaderData({ [MIGRATED]: key });
  }

  const serviceChanged = await w.writeService(renderService({ port: s.port, workers: s.workers, ...w.paths }));
  const wasRunning = await w.running();
  if (!wasRunning || serviceChanged) {
    await (wasRunning ? w.restart() : w.start());
    await ctx.log.info(`${wasRunning ? 'restarted' : 'started'} gunicorn on port ${s.port} with ${s.workers} workers, serving ${release.id}`);
  } else if (settingsChanged) {
    await w.reload();
    await ctx.log.info(`reloaded gunicorn gracefully for new settings (${release.id}, DEBUG ${s.debug ? 'on' : 'off'})`);
  }
  // Checked on every hook: systemd calls a gunicorn that keeps crashing at start "active".
  if (!(await w.answers(s.port))) throw new StatusError(blocked`gunicorn does not answer on port ${s.port}: see journalctl -u django on ${ctx.unitName}`);
  // The previous release stays until the next switch: gracefully retiring workers may
  // still read its templates and static files.
  await w.prune(previous ? [release.id, previous] : [release.id]);

  const cache = servers.length ? `memcached ${servers.join(' ')}` : 'local-memory cache';
  await ctx.setStatus(active`serving ${release.id} on port ${s.port} with ${cache}${s.debug ? '; DEBUG on' : ''}`);
}

/**
 * The release to serve: the prepared one when the source did not change, else the source
 * copied or fetched again and built (collectstatic). A bad source blocks the unit naming
 * the option; what runs keeps running.
 */
async function prepare(ctx: Ctx, w: Workload, s: Settings, o: Options): Promise<{ release: Release; settingsModule: string }> {
  const sourceKey = JSON.stringify(s.source);
  let id = await ctx.getStored(RELEASE);
  let manageModule = await ctx.getStored(MANAGE_MODULE);
  const again = s.source.kind === 'git' ? o.refetch : o.reread;
  if (again || (await ctx.getStored(SOURCE_KEY)) !== sourceKey || !id || !(await w.hasRelease(id))) {
    await ctx.setStatus(maintenance`preparing ${describeSource(s.source)}`);
    if (s.source.kind === 'git') await w.installGit();
    try {
      const p = await w.prepare(s.source);
      id = p.id;
      manageModule = settingsModuleOf(p.manage) ?? '';
    } catch (e) {
      if (e instanceof SourceError) throw new StatusError(blocked`${optionValue(ctx, e.option)}: ${e.message}`);
      throw e;
    }
    await ctx.setStored({ [SOURCE_KEY]: sourceKey, [RELEASE]: id, [MANAGE_MODULE]: manageModule });
    await ctx.log.info(`prepared ${id} from ${describeSource(s.source)}`);
  }
  const settingsModule = s.settingsModule ?? manageModule;
  if (!settingsModule) {
    throw new StatusError(blocked`settings-module is empty and source=${ctx.config.source} has no manage.py naming one: set settings-module (e.g. mysite.settings)`);
  }
  const release = w.release(id);
  try {
    await w.build(release, settingsModule);
  } catch (e) {
    if (e instanceof SourceError) throw new StatusError(blocked`${optionValue(ctx, s.settingsModule ? 'settings-module' : 'source')}: ${e.message}`);
    throw e;
  }
  return { release, settingsModule };
}

function optionValue(ctx: Ctx, option: 'source' | 'revision' | 'settings-module'): string {
  return `${option}=${ctx.config[option]}`;
}

async function updateIfChanged(bag: { read(): Promise<Record<string, string>>; update(d: Record<string, string>): Promise<void> }, want: Record<string, string>) {
  const have = await bag.read();
  if (Object.entries(want).some(([k, v]) => have[k] !== v)) await bag.update(want);
}

export default build(new MachineWorkload(process.env.JUJU_CHARM_DIR ?? process.cwd()));

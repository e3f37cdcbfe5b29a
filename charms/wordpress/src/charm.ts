/**
 * WordPress from Debian on Apache and mod_php, any number of units over one database.
 *
 * Holistic: after every hook (and once for a batch of relation, config and leader-data
 * changes) `converge` reads everything the unit can see and brings the machine in line.
 * The leader generates what all units must share (keys and salts, the administrator's
 * password) into an application-owned Juju secret (encrypted at rest, never in leader
 * data, status or logs), installs WordPress into the database once, and applies the blog
 * settings there; every unit renders the same configuration and serves the site.
 */
import { Charm, type Context, type Relation, StatusError, active, blocked, maintenance, password, waiting } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { renderSite, renderWpConfig } from './render.ts';
import { type Blog, ConfigError, type Database, SALT_NAMES, type Salts, type Settings, databaseFrom, databaseId, installedInto, memcachedFrom, parseSalts, settingsFrom } from './settings.ts';
import { MachineWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

/** The application-owned secret with the keys and salts and the administrator's password. */
const SECRETS = 'wordpress-secrets';
/** Its key for the administrator's password; the salts' keys are their names in Juju's key syntax (`auth-key`). */
const ADMIN_PASSWORD = 'admin-password';
const saltKey = (name: string) => name.toLowerCase().replaceAll('_', '-');

/** Leader data keys. */
/** Bumped when the leader writes the secret, so the other units hear of it (leader-settings-changed). */
const SECRETS_VERSION = 'secrets-version';
/** The secret's id, for get-admin-password on any unit (only the leader may look it up by label). */
const SECRET_ID = 'secrets-id';
/** Where charms before secrets kept them (moved into the secret, then deleted). */
const LEGACY_SALTS = 'salts';
const LEGACY_ADMIN_PASSWORD = 'admin-password';
/** databaseId() of the database the leader installed WordPress into. */
const INSTALLED = 'installed';
/** The administrator's login at install (admin-user cannot change afterwards). */
const ADMIN_USER = 'admin-user';
/** The blog settings last applied to the database, so unchanged config does not rerun the script. */
const APPLIED = 'blog-settings';

export const PORT = 80;

/** The relations on `endpoint`, without the one being broken in this hook (it is still listed). */
async function relationsOf(ctx: Ctx, endpoint: 'db' | 'cache' | 'website'): Promise<Relation[]> {
  const e = ctx.event;
  const broken = e.kind === 'relation' && e.hook === 'relation-broken' ? e.relationId : undefined;
  return (await ctx.relations(endpoint)).filter((r) => r.id !== broken);
}

async function bagsOf(ctx: Ctx, endpoint: 'db' | 'cache'): Promise<{ unit: string; data: Record<string, string> }[]> {
  const bags: { unit: string; data: Record<string, string> }[] = [];
  for (const rel of await relationsOf(ctx, endpoint)) for (const u of rel.units) bags.push({ unit: u, data: await rel.unit(u).read() });
  return bags;
}

/** Publishes this unit on every `website` relation (Juju's http interface), or withdraws it. */
async function publish(ctx: Ctx, serving: boolean): Promise<void> {
  const want = serving ? { hostname: await ctx.address(), port: String(PORT) } : { hostname: '', port: '' };
  for (const rel of await relationsOf(ctx, 'website')) {
    const have = await rel.local.read();
    if ((have.hostname ?? '') !== want.hostname || (have.port ?? '') !== want.port) await rel.local.update(want);
  }
}

interface Shared {
  salts: Salts;
  adminPassword: string;
}

/** The shared secrets from the application's secret, or undefined until the leader made them. */
function sharedFrom(content: Record<string, string> | undefined): Shared | undefined {
  if (!content) return undefined;
  const salts = Object.fromEntries(SALT_NAMES.map((n) => [n, content[saltKey(n)] ?? '']));
  const adminPassword = content[ADMIN_PASSWORD] ?? '';
  return adminPassword && SALT_NAMES.every((n) => salts[n]) ? { salts: salts as Salts, adminPassword } : undefined;
}

/**
 * The leader makes the shared secrets once (or moves them out of leader data, where charms
 * before secrets kept them) and tells the other units; everyone else reads them.
 */
async function sharedSecrets(ctx: Ctx, data: Record<string, string>): Promise<Shared | undefined> {
  const have = sharedFrom(await ctx.appSecret(SECRETS));
  if (have && ctx.isLeader && !data[SECRET_ID]) await ctx.setLeaderData({ [SECRET_ID]: (await ctx.appSecretId(SECRETS)) ?? '' });
  if (have || !ctx.isLeader) return have;
  const made: Shared = {
    salts: parseSalts(data[LEGACY_SALTS]) ?? (Object.fromEntries(SALT_NAMES.map((n) => [n, password(64)])) as Salts),
    adminPassword: data[LEGACY_ADMIN_PASSWORD] || password(20),
  };
  await ctx.setAppSecret(SECRETS, { ...Object.fromEntries(SALT_NAMES.map((n) => [saltKey(n), made.salts[n]])), [ADMIN_PASSWORD]: made.adminPassword });
  const version = Number(data[SECRETS_VERSION] ?? '0') + 1;
  await ctx.setLeaderData({ [SECRETS_VERSION]: String(version), [SECRET_ID]: (await ctx.appSecretId(SECRETS)) ?? '', ...(data[LEGACY_SALTS] !== undefined ? { [LEGACY_SALTS]: '' } : {}), ...(data[LEGACY_ADMIN_PASSWORD] !== undefined ? { [LEGACY_ADMIN_PASSWORD]: '' } : {}) });
  return made;
}

function configured(ctx: Ctx): Settings {
  try {
    return settingsFrom(ctx.config);
  } catch (e) {
    // Nothing is written before this point: the site keeps its last good configuration.
    if (e instanceof ConfigError) throw new StatusError(blocked(e.message));
    throw e;
  }
}

export function build(w: Workload) {
  const charm = new Charm(spec);

  const install = async (ctx: Ctx) => {
    await ctx.setStatus(maintenance('installing WordPress, Apache and PHP'));
    await w.install();
    await ctx.setWorkloadVersion(await w.version());
  };
  charm.on.install(install);
  charm.on.upgradeCharm(install);
  charm.on.stop(() => w.stop());

  /**
   * The leader installs into `db` once and applies the blog settings when they changed;
   * returns the administrator's login.
   */
  async function leaderSetup(ctx: Ctx, db: Database, blog: Blog, data: Readonly<Record<string, string>>, adminPassword: string): Promise<string> {
    const id = databaseId(db);
    let admin = data[ADMIN_USER] ?? blog.adminUser;
    let applied = data[APPLIED];
    if (data[INSTALLED] !== id && installedInto(data[INSTALLED], db)) {
      await ctx.setLeaderData({ [INSTALLED]: id });
    } else if (data[INSTALLED] !== id) {
      await ctx.setStatus(maintenance`installing WordPress into ${db.name} on ${db.host}`);
      const out = await w.setup('install', blog, adminPassword);
      await ctx.log.info(`WordPress setup: ${out} (database ${db.name} on ${db.host}:${db.port})`);
      // A database that already holds the site (a reused one) keeps its administrator.
      if (out.startsWith('installed')) admin = blog.adminUser;
      applied = '';
      await ctx.setLeaderData({ [INSTALLED]: id, [ADMIN_USER]: admin, [APPLIED]: applied });
    }
    const wanted = { ...blog, adminUser: admin };
    const fingerprint = JSON.stringify({ db: id, ...wanted });
    if (applied !== fingerprint) {
      await ctx.log.info(`WordPress setup: ${await w.setup('settings', wanted, adminPassword)}`);
      await ctx.setLeaderData({ [APPLIED]: fingerprint });
    }
    return admin;
  }

  async function converge(ctx: Ctx): Promise<void> {
    const settings = configured(ctx);
    const data = await ctx.leaderData();
    const shared = await sharedSecrets(ctx, data);
    const salts = shared?.salts;
    const db = databaseFrom(await bagsOf(ctx, 'db'));
    const memcached = memcachedFrom((await bagsOf(ctx, 'cache')).map((b) => b.data));

    // php-memcached first: the configuration must not name servers PHP cannot reach yet.
    const newExtension = memcached.length > 0 && (await w.installCacheClient());
    const siteChanged = await w.writeSite(renderSite(ctx.unitName, settings));
    // Without a database the last configuration stays: a unit being removed loses its
    // relations before HAProxy stops sending it requests, and those must still be served.
    if (db && salts) await w.writeWpConfig(renderWpConfig({ db, salts, memcached, settings }));
    if (siteChanged || newExtension || !(await w.apacheRunning())) {
      const why = siteChanged ? 'site changed' : newExtension ? 'php-memcached installed' : 'not running';
      await ctx.log.info(`apache: ${why}: ${why === 'not running' ? 'starting' : 'graceful reload'}`);
      await w.startOrReload();
    }
    await ctx.setPorts([PORT]);

    const dbRelations = await relationsOf(ctx, 'db');
    if (dbRelations.length === 0) {
      await publish(ctx, false);
      return ctx.setStatus(blocked`needs a MySQL database: sigil integrate ${ctx.appName} mariadb`);
    }
    if (!db) {
      await publish(ctx, false);
      return ctx.setStatus(waiting`waiting for ${dbRelations.map((r) => r.app).join(', ')} to publish database credentials`);
    }
    if (!salts) {
      await publish(ctx, false);
      return ctx.setStatus(waiting('waiting for the leader to generate the keys and salts'));
    }
    let admin = data[ADMIN_USER];
    if (ctx.isLeader) admin = await leaderSetup(ctx, db, settings.blog, data, shared!.adminPassword);
    else if (!installedInto(data[INSTALLED], db)) {
      await publish(ctx, false);
      return ctx.setStatus(waiting`waiting for the leader to install WordPress into ${db.name}`);
    }
    await publish(ctx, true);

    if (admin !== undefined && admin !== settings.blog.adminUser) {
      return ctx.setStatus(blocked`admin-user=${JSON.stringify(settings.blog.adminUser)} cannot change after install: the administrator is "${admin}"; set it back (add users in WordPress)`);
    }
    const cache = memcached.length ? `, object cache on ${memcached.length} memcached` : '';
    await ctx.setStatus(active`serving "${settings.blog.title}" on port ${PORT}: database ${db.name} on ${db.host}${cache}`);
  }

  charm.reconcile(async (ctx) => {
    if (ctx.event.kind === 'lifecycle' && ctx.event.hook === 'stop') return;
    await converge(ctx);
  });

  charm.on.action('get-admin-password', async (ctx, ev) => {
    const data = await ctx.leaderData();
    // The password itself stays in the secret (action results are scrubbed of secret values):
    // the operator reveals it, as an admin, with the command given here.
    const id = sharedFrom(await ctx.appSecret(SECRETS)) ? data[SECRET_ID] || (await ctx.appSecretId(SECRETS)) : undefined;
    if (!id) throw new Error('no administrator password yet: the leader generates it in its first hook; try again once the units are active');
    await ev.set({ user: data[ADMIN_USER] ?? ctx.config['admin-user'], 'password-secret': id, reveal: `sigil show-secret ${id} --reveal` });
  });

  return charm;
}

export default build(new MachineWorkload(process.env.JUJU_CHARM_DIR ?? '.'));

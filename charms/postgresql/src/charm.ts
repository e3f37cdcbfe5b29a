import { Charm, type Context, StatusError, active, blocked, maintenance, password } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { CLIENT_ENDPOINTS, type Grant, hba, isManagedRole, published, requestOf, requestProblem, unitRanges, username } from './clients.ts';
import { RESTART_SETTINGS, changedKeys, configProblem, parse, render, settingsFor } from './settings.ts';
import { PG_MAJOR, SERVICE, SystemWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;

/** Unit state: why config is refused, and why clients cannot be served (blocked messages). */
const CONFIG_ERROR = 'config-error';
const CLIENT_PROBLEMS = 'client-problems';
/**
 * Client roles' passwords live in an application-owned Juju secret (as Canonical's
 * postgresql-operator keeps its passwords), which every unit of the application reads. Leader
 * data holds only a counter the leader bumps when they change, so the other units get
 * leader-settings-changed. `password.<user>` leader keys are what charms before secrets
 * kept: they are moved into the secret and deleted.
 */
const PASSWORDS_SECRET = 'client-passwords';
const PASSWORDS_VERSION = 'passwords-version';
const LEGACY_PREFIX = 'password.';

/** One secret key per role (`pw-<role name in hex>`: Juju's keys are lowercase letters, digits and hyphens), so each password is a value of its own. */
const secretKey = (user: string) => `pw-${Buffer.from(user).toString('hex')}`;

async function clientPasswords(ctx: Ctx): Promise<{ passwords: Record<string, string>; legacy: string[] }> {
  const content = await ctx.appSecret(PASSWORDS_SECRET);
  const stored = Object.fromEntries(Object.entries(content ?? {}).filter(([k]) => k.startsWith('pw-')).map(([k, v]) => [Buffer.from(k.slice(3), 'hex').toString(), v]));
  const leader = await ctx.leaderData();
  const legacy = Object.keys(leader).filter((k) => k.startsWith(LEGACY_PREFIX));
  const fromLeader = Object.fromEntries(legacy.map((k) => [k.slice(LEGACY_PREFIX.length), leader[k]!]));
  return { passwords: { ...fromLeader, ...stored }, legacy };
}

export function build(w: Workload) {
  const charm = new Charm(spec);

  /** Refuses a bad value with a blocked status naming it; the server keeps its last good settings. */
  const refuse = async (ctx: Ctx, message: string): Promise<never> => {
    await ctx.setStored({ [CONFIG_ERROR]: message });
    await ctx.log.warning(`config refused: ${message}`);
    throw new StatusError(blocked(message));
  };

  /** Applies the config: reload when that is enough, restart only for start-time settings. */
  const configure = async (ctx: Ctx): Promise<void> => {
    const c = ctx.config;
    const problem = configProblem(c);
    if (problem) await refuse(ctx, problem);
    const want = settingsFor(c, await ctx.address());
    const oldText = await w.readSettings();
    const changed = changedKeys(parse(oldText), want);
    for (const k of changed) {
      if (k === 'listen_addresses') continue; // the charm's own value, not the operator's
      const err = await w.checkSetting(k, want[k]!);
      if (err) await refuse(ctx, `${k}=${want[k]} is rejected by PostgreSQL: ${err}`);
    }
    if (changed.length > 0) {
      await w.writeSettings(render(want));
      const restart = changed.filter((k) => RESTART_SETTINGS.has(k));
      if (!(await w.isRunning())) {
        await ctx.log.info(`settings written for the next start: ${changed.join(', ')}`);
      } else if (restart.length > 0) {
        await ctx.setStatus(maintenance`restarting PostgreSQL for ${restart.join(', ')}`);
        try {
          await w.restart();
        } catch (e) {
          await w.writeSettings(oldText ?? '');
          await w.restart();
          const was = parse(oldText);
          const values = restart.map((k) => `${k}=${want[k]}`).join(', ');
          const previous = restart.map((k) => `${k}=${was[k] ?? 'default'}`).join(', ');
          await refuse(ctx, `${values} stopped PostgreSQL from starting (${e instanceof Error ? e.message : String(e)}); it runs on its previous settings (${previous})`);
        }
        await ctx.log.info(`restarted PostgreSQL for ${restart.join(', ')} (changed: ${changed.join(', ')})`);
      } else {
        await w.reload();
        await ctx.log.info(`reloaded PostgreSQL for ${changed.join(', ')}`);
      }
    }
    await ctx.setStored({ [CONFIG_ERROR]: '' });
    await ctx.setPorts([Number(parse(await w.readSettings()).port ?? c.port)]);
  };

  /**
   * Converges every db and db-admin relation: the leader picks each client role's password;
   * every unit with the password creates the role and database on its server, publishes
   * the legacy keys, lets exactly the related units' addresses in, and takes login away
   * from client roles whose relation is gone. Level-based, so any hook may run it.
   */
  const converge = async (ctx: Ctx, brokenRelation?: number): Promise<void> => {
    if (!(await w.isRunning())) {
      await ctx.log.info('PostgreSQL is not running: clients are set up when it starts');
      return;
    }
    const relations = (await Promise.all(CLIENT_ENDPOINTS.map((e) => ctx.relations(e)))).flat().filter((r) => r.id !== brokenRelation);
    const users = new Set(relations.map((r) => username(r.endpoint as 'db' | 'db-admin', r.app)));

    let { passwords, legacy } = await clientPasswords(ctx);
    if (ctx.isLeader) {
      const next: Record<string, string> = {};
      for (const u of [...users].sort()) next[u] = passwords[u] ?? password();
      // A relation removed and added again gets a new password: the old one is dropped here.
      if (JSON.stringify(next) !== JSON.stringify(Object.fromEntries(Object.entries(passwords).sort(([a], [b]) => a.localeCompare(b)))) || legacy.length > 0) {
        await ctx.setAppSecret(PASSWORDS_SECRET, { format: '1', ...Object.fromEntries(Object.entries(next).map(([u, pw]) => [secretKey(u), pw])) });
        const version = Number((await ctx.leaderData())[PASSWORDS_VERSION] ?? '0') + 1;
        await ctx.setLeaderData({ [PASSWORDS_VERSION]: String(version), ...Object.fromEntries(legacy.map((k) => [k, ''])) });
        passwords = next;
        legacy = [];
      }
    }

    const settings = await w.readSettings();
    if (settings === undefined) {
      await ctx.log.info('PostgreSQL is not configured yet (config-changed): clients are set up once it is');
      return;
    }
    const applied = parse(settings);
    const server = { host: await ctx.address(), port: Number(applied.port ?? 5432), version: PG_MAJOR };
    if (relations.length > 0 && !(await w.ready(server.host, server.port))) {
      throw new Error(`PostgreSQL does not accept connections on ${server.host}:${server.port} yet; clients get credentials once it does (the hook is retried)`);
    }
    let available: Set<string> | undefined; // asked of the server only when a client wants extensions
    const grants: Grant[] = [];
    const problems: string[] = [];
    for (const rel of relations) {
      const endpoint = rel.endpoint as 'db' | 'db-admin';
      const user = username(endpoint, rel.app);
      const pw = passwords[user];
      if (!pw) continue; // a non-leader waits for the leader's password (leader-settings-changed)
      const unitBags = await rel.unitsData();
      const request = requestOf(await rel.remoteApp.read(), unitBags);
      if (request.extensions.length > 0) available ??= new Set(await w.availableExtensions());
      const missing = request.extensions.filter((e) => !available?.has(e.name)).map((e) => e.name);
      const problem = requestProblem(rel.app, request) ?? (missing.length ? `${rel.app} asked for extensions ${missing.join(', ')}, which PostgreSQL ${PG_MAJOR} here does not have` : undefined);
      if (problem) {
        problems.push(problem);
        continue;
      }
      const grant: Grant = {
        relationId: rel.id,
        endpoint,
        app: rel.app,
        user,
        password: pw,
        database: request.database ?? (await rel.local.get('database')) ?? rel.app,
        superuser: endpoint === 'db-admin',
        roles: request.roles,
        extensions: request.extensions,
        units: Object.fromEntries(Object.entries(unitBags).map(([u, bag]) => [u, unitRanges(bag)])),
      };
      await w.ensureClient(grant);
      await rel.local.update(published(grant, server));
      grants.push(grant);
    }

    if (await w.writeHba(hba(grants))) {
      await w.reload();
      await ctx.log.info(`pg_hba.conf now admits ${grants.map((g) => `${g.user} from ${Object.keys(g.units).join(' ') || 'no unit yet'}`).join('; ') || 'no client'}`);
    }
    for (const role of await w.loginRoles()) {
      if (isManagedRole(role) && !users.has(role)) {
        await w.revoke(role);
        await ctx.log.info(`revoked ${role}: its relation is gone (login and password removed, sessions ended)`);
      }
    }
    await ctx.setStored({ [CLIENT_PROBLEMS]: problems.join('; ') });
  };

  const report = async (ctx: Ctx): Promise<void> => {
    const why = (await ctx.getStored(CONFIG_ERROR)) || (await ctx.getStored(CLIENT_PROBLEMS));
    if (why) return ctx.setStatus(blocked(why));
    if (!(await w.isRunning())) return ctx.setStatus(blocked`PostgreSQL is not running: see journalctl -u ${SERVICE}`);
    const port = parse(await w.readSettings()).port ?? '5432';
    await ctx.setStatus(active`PostgreSQL ${PG_MAJOR} on ${await ctx.address()}:${port}`);
  };

  charm.on.install(async (ctx) => {
    await ctx.setStatus(maintenance('installing PostgreSQL'));
    await w.install();
    // Only local access until relations say otherwise (and the charm's own root → postgres map).
    if (await w.writeHba(hba([]))) await w.reload();
    await ctx.setWorkloadVersion(await w.version());
  });

  charm.on.start(async (ctx) => {
    if (!(await w.isRunning())) await w.start();
    await ctx.setWorkloadVersion(await w.version());
    await converge(ctx);
    await report(ctx);
  });

  const everything = async (ctx: Ctx) => {
    await configure(ctx);
    await converge(ctx);
    await report(ctx);
  };
  charm.on.configChanged(everything);
  charm.on.upgradeCharm(everything);

  const clients = async (ctx: Ctx, brokenRelation?: number) => {
    await converge(ctx, brokenRelation);
    await report(ctx);
  };
  charm.on.leaderElected((ctx) => clients(ctx));
  charm.on.leaderSettingsChanged((ctx) => clients(ctx));
  for (const endpoint of CLIENT_ENDPOINTS) {
    charm.on.relationJoined(endpoint, (ctx) => clients(ctx));
    charm.on.relationChanged(endpoint, (ctx) => clients(ctx));
    charm.on.relationDeparted(endpoint, (ctx) => clients(ctx));
    charm.on.relationBroken(endpoint, (ctx, ev) => clients(ctx, ev.relation.id));
  }

  charm.on.updateStatus(report);
  charm.on.stop(async () => {
    await w.stop();
  });

  charm.on.action('backup', async (ctx, ev) => {
    const { path, databases } = await w.backup(ev.params.database);
    await ctx.log.info(`backed up ${databases.join(', ')} to ${path}`);
    await ev.set({ path, databases: databases.join(',') });
  });

  charm.on.action('restore', async (ctx, ev) => {
    const databases = await w.restore(ev.params.path);
    await ctx.log.info(`restored ${databases.join(', ')} from ${ev.params.path}`);
    await ev.set({ databases: databases.join(',') });
  });

  return charm;
}

export default build(new SystemWorkload());

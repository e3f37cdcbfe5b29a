/**
 * MariaDB on the machine, offered to related applications the way Juju's MySQL charm does:
 * on `db` (interface mysql) each application gets a database named after it and a user
 * of its own; on `db-admin` (interface mysql-root) a user with every privilege. Both are
 * published in this unit's bag with the legacy keys (host, port, database, user,
 * password, slave). The leader's server is the one related applications use: units are
 * standalone servers (no replication), so the other units publish nothing.
 */
import { Charm, type Context, type Relation, StatusError, active, blocked, maintenance, password } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { ConfigError, OPTION_OF, type Settings, parseSettings, plan, renderSettings, settingsFrom } from './settings.ts';
import { type Grant, MariadbWorkload, type Workload } from './workload.ts';

type Ctx = Context<typeof spec>;
const ENDPOINTS = ['db', 'db-admin'] as const;
const KEYS = ['host', 'port', 'database', 'user', 'password', 'slave'] as const;

/**
 * What the leader keeps per relation, so every hook (and a new leader) publishes the same:
 * the user and database in leader data, the password in the application's Juju secret
 * (Canonical's mysql-operator keeps its passwords in secrets too). Leader data from older
 * revisions carried the password: the leader moves it into the secret.
 */
interface Credentials {
  user: string;
  password: string;
  database: string;
}

const credentialsKey = (relationId: number) => `relation-${relationId}`;
const PASSWORDS_SECRET = 'client-passwords';
const passwordKey = (relationId: number) => `relation-${relationId}-password`;

/** A user name per relation, readable and within MySQL's 32 characters: `wordpress_7`. */
export function userName(app: string, relationId: number): string {
  const suffix = `_${relationId}`;
  return app.slice(0, 32 - suffix.length) + suffix;
}

export function build(w: Workload) {
  const charm = new Charm(spec);

  /** Records a blocked status that update-status keeps showing until the config is fixed. */
  async function block(ctx: Ctx, message: string): Promise<never> {
    await ctx.setStored({ blocked: message });
    throw new StatusError(blocked(message));
  }

  async function report(ctx: Ctx): Promise<void> {
    const stuck = await ctx.getStored('blocked');
    if (stuck) return ctx.setStatus(blocked(stuck));
    if (!(await w.isRunning())) return ctx.setStatus(blocked('MariaDB is not running: see `journalctl -u mariadb` on the unit; changing config or `sigil resolve` starts it again'));
    const { bind_address: host, port } = parseSettings((await w.readConfig()) ?? '');
    // Debian starts MariaDB on install, before config-changed has written Sigil's settings
    // (leader-elected comes in between): it is not yet where it will serve.
    if (host === undefined || port === undefined) return ctx.setStatus(maintenance('configuring MariaDB'));
    await ctx.setStatus(ctx.isLeader ? active`ready on ${host}:${port}` : active`ready on ${host}:${port} (standalone: the leader serves relations)`);
  }

  /** Restarts MariaDB with the new file; when it does not come up, goes back to the old one. */
  async function restartOrRollBack(ctx: Ctx, previous: string | undefined, changed: readonly string[]): Promise<void> {
    try {
      await w.restart();
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (previous === undefined) throw new Error(`MariaDB did not start: ${reason}`);
      await w.writeConfig(previous);
      await w.restart();
      const options = changed.map((v) => OPTION_OF[v] ?? v).join(', ');
      await block(ctx, `MariaDB did not start with the new ${options} (${reason}): it runs on the previous settings; fix the config`);
    }
  }

  /** Converges MariaDB to the config: SET GLOBAL where it can, a restart where it must. */
  async function configure(ctx: Ctx): Promise<void> {
    let next: Settings;
    try {
      next = settingsFrom(ctx.config, await ctx.address(), await w.memoryBytes());
    } catch (e) {
      if (e instanceof ConfigError) await block(ctx, e.message);
      throw e;
    }
    const previous = await w.readConfig();
    const p = plan(previous === undefined ? undefined : parseSettings(previous), next, await w.isRunning());
    if (p.changed.length || p.restart) {
      await ctx.setStatus(p.restart ? maintenance('restarting MariaDB') : maintenance`applying ${p.changed.join(', ')}`);
      await w.writeConfig(renderSettings(next));
      let restart = p.restart;
      for (const s of p.set) {
        try {
          await w.setGlobal(s.name, s.value);
        } catch (e) {
          await ctx.log.warning(`SET GLOBAL ${s.name} failed, restarting instead: ${e instanceof Error ? e.message : String(e)}`);
          restart = true;
        }
      }
      if (restart) await restartOrRollBack(ctx, previous, p.changed);
      await ctx.log.info(`MariaDB ${restart ? 'restarted' : 'updated live'}: ${p.changed.join(', ') || 'started'}`);
    }
    await ctx.setStored({ blocked: '' });
    await ctx.setPorts([Number(next.port)]);
  }

  async function savedCredentials(ctx: Ctx, relationId: number): Promise<Credentials | undefined> {
    const saved = (await ctx.leaderData())[credentialsKey(relationId)];
    if (!saved) return undefined;
    const c = JSON.parse(saved) as Partial<Credentials>;
    const pw = (await ctx.appSecret(PASSWORDS_SECRET))?.[passwordKey(relationId)] ?? c.password;
    return pw === undefined ? undefined : { user: c.user ?? '', database: c.database ?? '', password: pw };
  }

  /** Saves (or with undefined, forgets) a relation's credentials: the password only in the secret. */
  async function saveCredentials(ctx: Ctx, relationId: number, c: Credentials | undefined): Promise<void> {
    const secret: Record<string, string> = { format: '1', ...((await ctx.appSecret(PASSWORDS_SECRET)) ?? {}) };
    delete secret[passwordKey(relationId)];
    if (c) secret[passwordKey(relationId)] = c.password;
    await ctx.setAppSecret(PASSWORDS_SECRET, secret);
    await ctx.setLeaderData({ [credentialsKey(relationId)]: c ? JSON.stringify({ user: c.user, database: c.database }) : '' });
  }

  async function credentials(ctx: Ctx, rel: Relation): Promise<Credentials> {
    const saved = await savedCredentials(ctx, rel.id);
    const stored = (await ctx.leaderData())[credentialsKey(rel.id)] ?? '';
    if (saved && !stored.includes('"password"')) return saved;
    const made = saved ?? { user: userName(rel.app, rel.id), password: password(), database: rel.app };
    await saveCredentials(ctx, rel.id, made);
    return made;
  }

  /**
   * Makes every related application's database and user exist and publishes them (leader),
   * or withdraws what this unit published (other units).
   */
  async function serve(ctx: Ctx): Promise<void> {
    const running = parseSettings((await w.readConfig()) ?? '');
    for (const endpoint of ENDPOINTS) {
      for (const rel of await ctx.relations(endpoint)) {
        if (!ctx.isLeader) {
          if (Object.keys(await rel.local.read()).length) await rel.local.update(Object.fromEntries(KEYS.map((k) => [k, null])));
          continue;
        }
        if (!running.port) continue; // Not configured yet; config-changed serves the relations.
        const c = await credentials(ctx, rel);
        const grant: Grant = endpoint === 'db-admin' ? 'all' : { database: c.database };
        await w.ensureDatabase(c.database);
        await w.ensureUser(c.user, c.password, grant);
        await rel.local.update({ host: running.bind_address, port: running.port, database: c.database, user: c.user, password: c.password, slave: 'False' });
      }
    }
  }

  charm.on.install(async (ctx) => {
    await ctx.setStatus(maintenance('installing mariadb-server'));
    await w.install();
    await ctx.setWorkloadVersion(await w.version());
  });

  for (const hook of ['configChanged', 'start', 'upgradeCharm'] as const) {
    charm.on[hook](async (ctx) => {
      await configure(ctx);
      await serve(ctx);
      await report(ctx);
    });
  }

  for (const hook of ['leaderElected', 'leaderSettingsChanged'] as const) {
    charm.on[hook](async (ctx) => {
      await serve(ctx);
      await report(ctx);
    });
  }
  charm.on.updateStatus((ctx) => report(ctx));

  for (const endpoint of ENDPOINTS) {
    charm.on.relationJoined(endpoint, (ctx) => serve(ctx));
    charm.on.relationChanged(endpoint, (ctx) => serve(ctx));
    charm.on.relationBroken(endpoint, async (ctx, ev) => {
      if (!ctx.isLeader) return;
      const saved = (await ctx.leaderData())[credentialsKey(ev.relation.id)];
      if (!saved) return;
      const { user } = JSON.parse(saved) as Credentials;
      await w.dropUser(user);
      await saveCredentials(ctx, ev.relation.id, undefined);
      await ctx.log.info(`dropped user ${user}: ${ev.remoteApp} is no longer related on ${endpoint}`);
    });
  }

  charm.on.action('backup', async (_ctx, ev) => {
    const { path, databases } = await w.backup();
    await ev.log(`dumped ${databases.join(', ')}`);
    await ev.set({ path, databases: databases.join(' ') });
  });

  charm.on.action('restore', async (_ctx, ev) => {
    await w.restore(ev.params.path);
    await ev.set({ restored: ev.params.path });
  });

  return charm;
}

export default build(new MariadbWorkload());

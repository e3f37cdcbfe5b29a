import { Charm, type Context, active, waiting } from '@sigil/charm-sdk';
import { spec } from './charm.gen.ts';
import { type Credentials, MachineWorkload, type Workload } from './workload.ts';

type Endpoint = 'db' | 'mysql' | 'cache' | 'redis';
const ENDPOINTS: Endpoint[] = ['db', 'mysql', 'cache', 'redis'];

/** What the provider on `endpoint` published: its first unit's bag over its application bag. */
async function published(ctx: Context<typeof spec>, endpoint: Endpoint): Promise<Record<string, string> | undefined> {
  const [rel] = await ctx.relations(endpoint);
  if (!rel) return undefined;
  const data = { ...(await rel.remoteApp.read()), ...(rel.units[0] ? await rel.unit(rel.units[0]).read() : {}) };
  // Juju's redis charms publish `hostname`; others `host`.
  if (data.host === undefined && data.hostname !== undefined) data.host = data.hostname;
  return data;
}

function credentials(data: Record<string, string>, overrides: Partial<Credentials>): Credentials {
  return {
    host: overrides.host ?? data.host ?? '',
    port: overrides.port ?? data.port ?? '',
    user: overrides.user ?? data.user ?? '',
    password: overrides.password ?? data.password ?? '',
    database: overrides.database ?? data.database ?? '',
  };
}

function summary(endpoint: Endpoint, d: Record<string, string>): string | undefined {
  if (!d.host) return undefined;
  if (endpoint === 'db' || endpoint === 'mysql') return d.user && d.password ? `${endpoint}: ${d.user}@${d.host}/${d.database ?? ''}` : undefined;
  return `${endpoint}: ${d.host}:${d.port ?? ''}`;
}

export function build(w: Workload) {
  const charm = new Charm(spec);

  for (const endpoint of ['db', 'mysql', 'redis'] as const) {
    charm.on.relationCreated(endpoint, () => w.installClient(endpoint));
  }
  // Holistic: after every hook, and once per batch of relation changes, ask for the
  // configured database and say what is connected.
  charm.reconcile(async (ctx) => {
    for (const e of ['db', 'mysql'] as const) {
      for (const rel of await ctx.relations(e)) await rel.local.update({ database: ctx.config.database || null });
    }
    const parts: string[] = [];
    for (const e of ENDPOINTS) {
      const d = await published(ctx, e);
      const s = d && summary(e, d);
      if (s) parts.push(s);
    }
    await ctx.setStatus(parts.length ? active(parts.join('; ')) : waiting('waiting for a datastore relation'));
  });

  charm.on.action('credentials', async (ctx, ev) => {
    const d = await published(ctx, ev.params.endpoint as Endpoint);
    if (!d) throw new Error(`no relation on "${ev.params.endpoint}"; integrate a provider first`);
    // Action result keys are lowercase words joined by hyphens (Juju's rule): schema_user → schema-user.
    await ev.set(Object.fromEntries(Object.entries(d).map(([k, v]) => [k.toLowerCase().replace(/[^a-z0-9.-]/g, '-'), v])));
  });

  charm.on.action('query', async (ctx, ev) => {
    const p = ev.params;
    const endpoint = p.endpoint as 'db' | 'mysql';
    const d = (await published(ctx, endpoint)) ?? {};
    const overrides: Partial<Credentials> = {};
    for (const k of ['host', 'user', 'password', 'database'] as const) if (p[k] !== undefined) overrides[k] = p[k];
    if (p.port !== undefined) overrides.port = String(p.port);
    const c = credentials(d, overrides);
    if (!c.host || !c.user) throw new Error(`no credentials on "${endpoint}" yet (provider published: ${Object.keys(d).join(', ') || 'nothing'})`);
    await ev.set({ output: (await w.sql(endpoint, c, p.sql)).trim() });
  });

  charm.on.action('cache', async (ctx, ev) => {
    const d = await published(ctx, 'cache');
    if (!d?.host) throw new Error('no memcached relation with a host yet');
    const { op, key, value } = ev.params;
    const req = op === 'set' ? `set ${key} 0 0 ${Buffer.byteLength(value ?? '')}\r\n${value ?? ''}\r\nquit\r\n` : `get ${key}\r\nquit\r\n`;
    const reply = await w.memcached(d.host, Number(d.port || 11211), req);
    const m = /^VALUE \S+ \d+ \d+\r\n([\s\S]*?)\r\nEND\r\n$/.exec(reply);
    await ev.set({ output: op === 'get' ? (m ? m[1]! : '') : reply.trim() });
  });

  charm.on.action('redis', async (ctx, ev) => {
    const d = await published(ctx, 'redis');
    if (!d?.host) throw new Error('no redis relation with a host yet');
    const out = await w.redis(d.host, d.port ?? '', ev.params.password ?? d.password ?? '', ev.params.command.split(/\s+/).filter((a) => a !== ''));
    await ev.set({ output: out.trim() });
  });

  return charm;
}

export default build(new MachineWorkload());

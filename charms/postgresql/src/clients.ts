/**
 * The legacy pgsql interface (Juju's `db` and `db-admin` endpoints), decided without I/O:
 * role names, what a client asks for in its bags, the keys published back, and the
 * pg_hba.conf rules that let exactly the related units' addresses in.
 */
import { createHash } from 'node:crypto';

export type ClientEndpoint = 'db' | 'db-admin';
export const CLIENT_ENDPOINTS: readonly ClientEndpoint[] = ['db', 'db-admin'];

type Bag = Readonly<Record<string, string>>;

/**
 * The role for an application on an endpoint, as the legacy charm names it: named after the
 * application (not the relation id) so a dump restored elsewhere finds its owner again.
 */
export function username(endpoint: ClientEndpoint, app: string): string {
  const name = `${endpoint === 'db-admin' ? 'jujuadmin' : 'juju'}_${app}`;
  if (name.length <= 63) return name;
  return name.slice(0, 31) + createHash('md5').update(name).digest('hex');
}

export function isManagedRole(role: string): boolean {
  return role.startsWith('juju_') || role.startsWith('jujuadmin_');
}

export interface Extension {
  name: string;
  schema: string;
}

export interface ClientRequest {
  /** The database the client asked for, if any. */
  database: string | undefined;
  roles: string[];
  extensions: Extension[];
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * What a client asks for: `database` from its application bag or else the first unit bag
 * naming one; `roles` and `extensions` (comma-separated, an extension as `name` or
 * `name:schema`) from every bag.
 */
export function requestOf(appBag: Bag, unitBags: Readonly<Record<string, Bag>>): ClientRequest {
  const bags = [appBag, ...Object.keys(unitBags).sort().map((u) => unitBags[u]!)];
  const database = bags.map((b) => b.database?.trim()).find((d) => d !== undefined && d !== '');
  const roles = [...new Set(bags.flatMap((b) => list(b.roles)))];
  const extensions = [...new Set(bags.flatMap((b) => list(b.extensions)))].map((e) => {
    const [name, schema] = e.split(':');
    return { name: name!, schema: schema || 'public' };
  });
  return { database, roles, extensions };
}

/** Why a request cannot be served, or undefined. */
export function requestProblem(app: string, r: ClientRequest): string | undefined {
  if (r.database !== undefined && (r.database.length > 63 || r.database.startsWith('template') || r.database === 'postgres')) {
    return `${app} asked for database "${r.database}": use a name of at most 63 characters that is not postgres or template*`;
  }
  const bad = r.roles.find((x) => x.length > 63 || x.startsWith('pg_') || isManagedRole(x) || x === 'postgres');
  if (bad !== undefined) return `${app} asked for role "${bad}": roles named pg_*, juju_*, jujuadmin_* or postgres are reserved`;
  return undefined;
}

/** The address ranges a remote unit connects from (egress subnets, else its address). */
export function unitRanges(bag: Bag): string[] {
  const egress = list(bag['egress-subnets']);
  if (egress.length) return egress;
  const addr = bag['ingress-address'] || bag['private-address'];
  if (!addr) return [];
  return [addr.includes('/') ? addr : `${addr}/${addr.includes(':') ? 128 : 32}`];
}

/** Everything this unit grants one related application. */
export interface Grant {
  relationId: number;
  endpoint: ClientEndpoint;
  app: string;
  user: string;
  password: string;
  database: string;
  superuser: boolean;
  roles: string[];
  extensions: Extension[];
  /** Remote unit → the ranges it connects from. */
  units: Record<string, string[]>;
}

export interface Server {
  host: string;
  port: number;
  /** PostgreSQL's major version, as the legacy charm publishes it (e.g. "15"). */
  version: string;
}

/** A libpq connection string, keys sorted, values quoted when they need it. */
export function connectionString(parts: Record<string, string>): string {
  const quote = (v: string) => (v !== '' && /^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
  return Object.keys(parts)
    .sort()
    .map((k) => `${k}=${quote(parts[k]!)}`)
    .join(' ');
}

/** The keys Juju's PostgreSQL charm publishes in its unit bag on a db or db-admin relation. */
export function published(g: Grant, s: Server): Record<string, string> {
  const allowed = Object.keys(g.units).filter((u) => g.units[u]!.length > 0).sort();
  return {
    host: s.host,
    port: String(s.port),
    database: g.database,
    user: g.user,
    password: g.password,
    // Never documented and deprecated in the legacy charm, but some clients still read it.
    ...(g.superuser ? {} : { schema_user: g.user, schema_password: g.password }),
    'allowed-units': allowed.join(' '),
    state: 'standalone',
    version: s.version,
    master: connectionString({ dbname: g.database, host: s.host, port: String(s.port), user: g.user, password: g.password }),
    // Reflected back so the client knows its request took effect.
    roles: g.roles.join(','),
    extensions: g.extensions.map((e) => (e.schema === 'public' ? e.name : `${e.name}:${e.schema}`)).join(','),
  };
}

/** pg_hba.conf: local peer access, each grant's users from its units' ranges, and nothing else. */
export function hba(grants: readonly Grant[]): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = [
    '# Managed by the Sigil postgresql charm: rules follow the db and db-admin relations.',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
    // The charm runs as root and connects as postgres (pg_ident.conf maps root to postgres).
    'local   all       postgres          peer  map=sigil',
    'local   all       all               peer',
  ];
  for (const g of [...grants].sort((a, b) => a.relationId - b.relationId)) {
    for (const unit of Object.keys(g.units).sort()) {
      for (const range of g.units[unit]!) {
        // db-admin clients (e.g. poolers) may connect to any database as any user, as in the legacy charm.
        const rule = g.superuser ? `host    all  all  ${range}  scram-sha-256` : `host    ${q(g.database)}  ${q(g.user)}  ${range}  scram-sha-256`;
        lines.push(`${rule}  # ${unit} (${g.endpoint}:${g.relationId})`);
      }
    }
  }
  lines.push('host    all       all   all         reject');
  return lines.join('\n') + '\n';
}

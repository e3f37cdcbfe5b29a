/**
 * What the related applications publish, read without I/O: the database from Juju's
 * legacy pgsql interface (`db`), the cache servers from the memcache interface (`cache`).
 */

type Bag = Readonly<Record<string, string>>;

export interface Database {
  host: string;
  port: number;
  name: string;
  user: string;
  password: string;
}

/**
 * The database the pgsql provider granted this unit. As Juju's pgsql clients do, a
 * provider unit's credentials count only once its `allowed-units` names this unit (its
 * pg_hba.conf lets us in) and its `database` is the one we asked for; a hot standby
 * (state other than master/standalone) is not written to.
 */
export function databaseFrom(units: Readonly<Record<string, Bag>>, me: string, wanted: string): Database | undefined {
  for (const unit of Object.keys(units).sort()) {
    const b = units[unit]!;
    const allowed = (b['allowed-units'] ?? '').split(/\s+/);
    if (!allowed.includes(me)) continue;
    if (b.state !== undefined && b.state !== '' && b.state !== 'master' && b.state !== 'standalone') continue;
    if (b.database !== wanted || !b.host || !b.user || !b.password) continue;
    const port = Number(b.port ?? '5432');
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    return { host: b.host, port, name: b.database, user: b.user, password: b.password };
  }
  return undefined;
}

/** The database to ask for: named after the application, as PostgreSQL allows it. */
export function databaseName(app: string): string {
  return app.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 63);
}

/** host:port of every memcached unit that published both (sorted: a stable settings file). */
export function cacheServers(units: Readonly<Record<string, Bag>>): string[] {
  const out: string[] = [];
  for (const b of Object.values(units)) {
    const port = Number(b.port);
    if (b.host && Number.isInteger(port) && port > 0 && port < 65536) out.push(b.host.includes(':') ? `[${b.host}]:${port}` : `${b.host}:${port}`);
  }
  return [...new Set(out)].sort();
}

import type { Db } from '../store/db.ts';
import type { Store } from '../store/store.ts';

/** A controller process sharing the store, as `controllers` lists it. */
export interface ReplicaRow {
  id: string;
  url: string;
  agentUrl: string;
  started: number;
  heartbeat: number;
  /** On the host where the provider makes machines (false: enlisted elsewhere with `enable-ha --to`). */
  home: boolean;
}

/** A machine agent connected to another replica: when its first connection there opened, and its newest. */
export interface RemotePresence {
  model: string;
  machine: string;
  since: number;
  latest: number;
}

/** A lease this replica holds: its fencing token. */
export interface HeldLease {
  key: string;
  token: number;
}

/** Thrown into a worker's write when its lease moved on: the write is not made. */
export class LeaseLost extends Error {
  constructor(readonly key: string) {
    super(`this controller no longer holds the lease on ${key}; another replica acts on it`);
  }
}

const isPg = (db: Db) => (db as { kind?: string }).kind === 'postgresql';

/**
 * The replicas' shared bookkeeping: who runs (`controllers`, a heartbeat each), which of
 * them each machine agent is connected to (`presence`), and who acts on what (`leases`).
 * Times are the database's clock, not the replica's, so replicas on hosts whose clocks
 * disagree still agree on when a lease expires.
 */
export class ReplicaRepository {
  private readonly now: string;
  private readonly share: string;

  constructor(private readonly s: Store) {
    const pg = isPg(s.db);
    this.now = pg ? '(extract(epoch from clock_timestamp()) * 1000)::bigint' : "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
    // A worker's write holds the lease row until it commits: an acquisition waits for it,
    // and the write after an acquisition sees the new token. (SQLite has one writer.)
    this.share = pg ? ' FOR SHARE' : '';
  }

  /** The database's clock, in milliseconds. */
  clock(): number {
    return Number((this.s.db.prepare(`SELECT ${this.now} AS now`).get() as { now: number | string }).now);
  }

  /** Records that replica `id` runs, answering at these URLs. */
  heartbeat(id: string, url: string, agentUrl: string, started: number, home = true): void {
    this.s.db
      .prepare(`INSERT INTO controllers (id, url, agent_url, started, heartbeat, home) VALUES (?, ?, ?, ?, ${this.now}, ?)
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, agent_url = excluded.agent_url, started = excluded.started, heartbeat = excluded.heartbeat, home = excluded.home`)
      .run(id, url, agentUrl, started, home ? 1 : 0);
  }

  /** Every replica with its heartbeat, the newest first; `aliveMs`: how recent a heartbeat counts as alive. */
  replicas(): ReplicaRow[] {
    return (this.s.db.prepare('SELECT id, url, agent_url AS agentUrl, started, heartbeat, home FROM controllers ORDER BY id').all() as (Omit<ReplicaRow, 'home'> & { home: number })[])
      .map((r) => ({ ...r, started: Number(r.started), heartbeat: Number(r.heartbeat), home: Number(r.home) !== 0 }));
  }

  /** The replicas whose heartbeat is younger than `aliveMs`. */
  alive(aliveMs: number): ReplicaRow[] {
    const now = this.clock();
    return this.replicas().filter((r) => now - r.heartbeat < aliveMs);
  }

  /** Forgets replicas silent for longer than `goneMs`, and the connections they held. */
  forgetSilent(goneMs: number): string[] {
    const gone = this.s.db.prepare(`SELECT id FROM controllers WHERE heartbeat < ${this.now} - ?`).all(goneMs) as { id: string }[];
    for (const { id } of gone) this.leave(id);
    return gone.map((g) => g.id);
  }

  /** A replica stopping: its row, its connections and its leases go (the leases' tokens stay, for fencing). */
  leave(id: string): void {
    this.s.db.transaction(() => {
      this.s.db.prepare('DELETE FROM presence WHERE replica = ?').run(id);
      this.s.db.prepare('UPDATE leases SET expires = 0 WHERE holder = ?').run(id);
      this.s.db.prepare('DELETE FROM controllers WHERE id = ?').run(id);
    })();
  }

  /** A machine agent's first connection to replica `id`. */
  connect(id: string, model: string, machine: string, since: number): void {
    this.s.txRelaxed(() =>
      this.s.db
        .prepare('INSERT INTO presence (model, machine, replica, since, latest) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, machine, replica) DO UPDATE SET latest = excluded.latest')
        .run(model, machine, id, since, since));
  }

  /** A newer connection of an agent already connected to replica `id`. */
  reconnect(id: string, model: string, machine: string, latest: number): void {
    this.s.txRelaxed(() => this.s.db.prepare('UPDATE presence SET latest = ? WHERE model = ? AND machine = ? AND replica = ?').run(latest, model, machine, id));
  }

  /** A machine agent's last connection to replica `id` closed. */
  disconnect(id: string, model: string, machine: string): void {
    this.s.txRelaxed(() => this.s.db.prepare('DELETE FROM presence WHERE model = ? AND machine = ? AND replica = ?').run(model, machine, id));
  }

  /** Replica `id`'s connections, all of them (after a write of one failed). */
  replacePresence(id: string, entries: readonly { model: string; machine: string; since: number; latest: number }[]): void {
    this.s.db.transaction(() => {
      this.clearPresence(id);
      const insert = this.s.db.prepare('INSERT INTO presence (model, machine, replica, since, latest) VALUES (?, ?, ?, ?, ?)');
      for (const e of entries) insert.run(e.model, e.machine, id, e.since, e.latest);
    })();
  }

  /** A replica starting: connections it held before a crash are gone. */
  clearPresence(id: string): void {
    this.s.db.prepare('DELETE FROM presence WHERE replica = ?').run(id);
  }

  /** The machine agents connected to replicas other than `id` that are alive. */
  remotePresence(id: string, aliveMs: number): RemotePresence[] {
    return (this.s.db
      .prepare(`SELECT p.model, p.machine, MIN(p.since) AS since, MAX(p.latest) AS latest FROM presence p JOIN controllers c ON c.id = p.replica
        WHERE p.replica <> ? AND c.heartbeat > ${this.now} - ? GROUP BY p.model, p.machine`)
      .all(id, aliveMs) as RemotePresence[]).map((r) => ({ ...r, since: Number(r.since), latest: Number(r.latest) }));
  }

  /** Extends every lease `holder` holds; what it still holds comes back (a lease taken from it is missing). */
  renew(holder: string, ttlMs: number): HeldLease[] {
    return (this.s.db
      .prepare(`UPDATE leases SET expires = ${this.now} + ? WHERE holder = ? AND expires > ${this.now} RETURNING key, token`)
      .all(ttlMs, holder) as HeldLease[]).map((l) => ({ key: l.key, token: Number(l.token) }));
  }

  /** The host ports published for a model's units, as the replica holding the model recorded them (replaces them all). */
  recordPublished(model: string, rows: readonly { unit: string; port: number; hostPort: number }[]): void {
    this.s.db.transaction(() => {
      this.s.db.prepare('DELETE FROM published_ports WHERE model = ?').run(model);
      const insert = this.s.db.prepare('INSERT INTO published_ports (model, unit, port, host_port) VALUES (?, ?, ?, ?)');
      for (const r of rows) insert.run(model, r.unit, r.port, r.hostPort);
    })();
  }

  /** A unit's published ports as recorded, `*:<host port>-><port>/tcp`. */
  published(model: string, unit: string): string[] {
    return (this.s.db.prepare('SELECT port, host_port AS hostPort FROM published_ports WHERE model = ? AND unit = ? ORDER BY port').all(model, unit) as { port: number; hostPort: number }[])
      .map((r) => `*:${r.hostPort}->${r.port}/tcp`).sort();
  }

  /** Takes `key` if nobody holds it or its holder let it expire: the new token, or undefined. */
  acquire(key: string, holder: string, ttlMs: number): number | undefined {
    const row = this.s.db
      .prepare(`INSERT INTO leases (key, holder, token, expires) VALUES (?, ?, 1, ${this.now} + ?)
        ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, token = leases.token + 1, expires = excluded.expires
        WHERE leases.expires <= ${this.now} RETURNING token`)
      .get(key, holder, ttlMs) as { token: number | string } | undefined;
    return row === undefined ? undefined : Number(row.token);
  }

  /** Gives `key` up at once (another replica takes it on its next round). */
  release(key: string, holder: string): void {
    this.s.db.prepare('UPDATE leases SET expires = 0 WHERE key = ? AND holder = ?').run(key, holder);
  }

  /** Who holds each lease that has not expired. */
  holders(): Map<string, string> {
    const rows = this.s.db.prepare(`SELECT key, holder FROM leases WHERE expires > ${this.now}`).all() as { key: string; holder: string }[];
    return new Map(rows.map((r) => [r.key, r.holder]));
  }

  /**
   * Fencing, inside a worker's write transaction: the write goes ahead only if `holder`
   * still holds `key` with `token` and it has not expired; on PostgreSQL the lease row stays
   * locked until the write commits, so no acquisition can slip in between.
   */
  checkFence(key: string, holder: string, token: number): void {
    const row = this.s.db
      .prepare(`SELECT token FROM leases WHERE key = ? AND holder = ? AND token = ? AND expires > ${this.now}${this.share}`)
      .get(key, holder, token);
    if (row === undefined) throw new LeaseLost(key);
  }
}

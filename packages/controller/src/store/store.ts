import { AsyncLocalStorage } from 'node:async_hooks';
import { sqliteOf, type Db } from './db.ts';

/**
 * What happened to the entity: `remove`; `status`, a change to its own runtime fields only
 * (statuses; a unit's state, ports and version), which no agent sees but the entity's own
 * and its application leader's (see `concerns` in @sigil/api); or `change`, anything else.
 */
/**
 * `status`: an entity's own runtime fields (statuses; a unit's state, ports, version).
 * `meta`: fields no agent's view holds (an application's exposure, constraints,
 * annotations, scale): people and the controller's workers read them, agents are not told.
 */
export type ChangeOp = 'change' | 'remove' | 'status' | 'meta';

export interface Change {
  rev: number;
  model: string;
  kind: string;
  key: string;
  op: ChangeOp;
}

export type ChangeListener = (rev: number, changes: Change[]) => void;

/**
 * What a worker's writes must pass where replicas share the store: checked inside each
 * transaction it starts, before anything is written (a lease still held, with its token).
 */
export interface Fence {
  check(): void;
}

/**
 * Every mutation goes through `tx`: one SQLite transaction that also appends what changed
 * to `change_log`. Listeners hear about a change only after it is committed, so anything
 * a watcher sees is durable.
 */
export class Store {
  readonly db: Db;
  private readonly listeners = new Set<ChangeListener>();
  private pending: Omit<Change, 'rev'>[] = [];
  private readonly insertChange;
  private readonly lastRev;
  private readonly fences = new AsyncLocalStorage<Fence | undefined>();

  constructor(db: Db) {
    this.db = db;
    this.insertChange = db.prepare('INSERT INTO change_log (model, kind, key, op, at) VALUES (?, ?, ?, ?, ?)');
    this.lastRev = db.prepare('SELECT COALESCE(MAX(rev), 0) AS rev FROM change_log');
    if (db.commitOrder) this.announced = this.revision();
  }

  /** Records that an entity changed; only valid inside `tx`. */
  changed(model: string, kind: string, key: string, op: ChangeOp = 'change'): void {
    this.pending.push({ model, kind, key, op });
  }

  /**
   * Runs `fn`, and everything it starts, with its writes fenced: each transaction checks
   * `fence` first, inside itself, and writes nothing if the check throws. Undefined: unfenced.
   */
  fenced<T>(fence: Fence | undefined, fn: () => T): T {
    return this.fences.run(fence, fn);
  }

  /**
   * Runs `fn`, a read-only view of the model (a machine's view, status), with its reads
   * answered from memory while nothing has changed, where a read costs a round trip
   * (PostgreSQL); on SQLite simply runs it.
   */
  cachedReads<T>(fn: () => T): T {
    if (!this.db.cached) return fn();
    this.caching++;
    try {
      return this.db.cached(fn);
    } finally {
      this.caching--;
    }
  }

  private caching = 0;

  /**
   * A transaction for records that are rebuilt after a crash or kept for people only (which
   * agents are connected, status history): where a commit waits on the disk (PostgreSQL)
   * it does not, so recording an agent's connection never holds the controller for an
   * fsync. Inside another transaction it joins that one, durable as the rest.
   */
  txRelaxed<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.tx(() => {
      this.db.relaxCommit?.();
      return fn();
    });
  }

  tx<T>(fn: () => T): T {
    // A nested call joins the outer transaction; its changes are announced with it.
    if (this.db.inTransaction) return fn();
    this.pending = [];
    let committed: Change[] = [];
    const order = this.db.commitOrder;
    const fence = this.fences.getStore();
    try {
      const result = this.db.transaction(() => {
        fence?.check();
        const r = fn();
        if (this.pending.length === 0) return r;
        const at = Date.now();
        order?.lock();
        committed = this.pending.map((c) => ({ ...c, rev: Number(this.insertChange.run(c.model, c.kind, c.key, c.op, at).lastInsertRowid) }));
        order?.notify(committed[committed.length - 1]!.rev);
        return r;
      })();
      if (committed.length > 0) {
        // With other writers (replicas), their commits interleave with ours: announce
        // everything up to ours, in revision order, from the log itself, unless ours follow
        // the last revision heard with no gap (revisions commit in order: nothing is missing).
        if (order && committed[0]!.rev !== this.announced + 1) this.catchUp();
        else this.announce(committed);
      }
      return result;
    } finally {
      this.pending = [];
    }
  }

  /** The newest revision listeners have heard (only kept where there are other writers). */
  private announced = -1;

  /**
   * Tells listeners about every change committed since the last one they heard, by anyone:
   * after each of our commits, and when another replica announces one of its own.
   */
  catchUp(): void {
    if (this.announced < 0) return;
    for (;;) {
      const changes = this.changesSince(this.announced);
      if (changes.length === 0) return;
      // Another replica committed: reads cached before are stale, whatever they read.
      this.db.invalidate?.();
      this.announce(changes);
    }
  }

  private announce(changes: Change[]): void {
    const last = changes[changes.length - 1]!;
    if (this.announced >= 0) this.announced = last.rev;
    // Listeners (and what they start) do not inherit the committer's fence.
    this.fences.run(undefined, () => {
      for (const l of this.listeners) l(last.rev, changes);
    });
  }

  private batch: { fn: () => unknown; fence: Fence | undefined; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];

  /**
   * Group commit: `fn` runs in one transaction with every other call queued in the same
   * turn of the event loop, so a burst of small agent reports costs one fsync, not one
   * each. Each call is its own savepoint: one that throws is undone alone (its changes are
   * not announced) and rejects, the others commit. The promise settles after the commit,
   * so an acknowledged change is as durable as with `tx`. An error that makes SQLite abandon
   * the transaction (SQLITE_FULL) fails every call of the batch.
   */
  batched<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Each call is checked against its own caller's fence, in its own savepoint.
      this.batch.push({ fn, fence: this.fences.getStore(), resolve: resolve as (v: unknown) => void, reject });
      if (this.batch.length === 1) this.fences.run(undefined, () => setImmediate(() => this.commitBatch()));
    });
  }

  private commitBatch(): void {
    const queued = this.batch;
    this.batch = [];
    const settle: (() => void)[] = [];
    try {
      this.tx(() => {
        for (const q of queued) {
          const mark = this.pending.length;
          try {
            const r = this.db.transaction(() => {
              q.fence?.check();
              return q.fn();
            })();
            settle.push(() => q.resolve(r));
          } catch (e) {
            // SQLite rolled the whole transaction back by itself (a full disk, say): the
            // batch fails as one, every call with this error.
            if (!this.db.inTransaction) throw e;
            this.pending.length = mark;
            settle.push(() => q.reject(e));
          }
        }
      });
    } catch (e) {
      for (const q of queued) q.reject(e);
      return;
    }
    for (const f of settle) f();
  }

  revision(): number {
    // A view read from the cache is as new as the last revision announced here (what the
    // cache was last brought up to), never newer: a watcher resuming from it misses nothing.
    if (this.caching > 0 && this.announced >= 0) return this.announced;
    return (this.lastRev.get() as { rev: number }).rev;
  }

  /**
   * Copies a SQLite store to `path` with SQLite's online backup (pages copied in steps;
   * writers are not blocked and the copy is of one committed state). False, and nothing
   * written, for a PostgreSQL store, which is dumped with pg_dump instead.
   */
  async backupTo(path: string): Promise<boolean> {
    const lite = sqliteOf(this.db);
    if (!lite) return false;
    await lite.backup(path);
    return true;
  }

  /** Closes the database: the last thing a stopping controller does. */
  close(): void {
    this.db.close();
  }

  changesSince(rev: number, limit = 10_000): Change[] {
    return this.db
      .prepare('SELECT rev, model, kind, key, op FROM change_log WHERE rev > ? ORDER BY rev LIMIT ?')
      .all(rev, limit) as Change[];
  }

  /** The oldest revision still in the log; a watcher behind it must resync from a snapshot. */
  oldestRevision(): number {
    return (this.db.prepare('SELECT COALESCE(MIN(rev), 0) AS rev FROM change_log').get() as { rev: number }).rev;
  }

  /** Drops change-log rows older than the newest `keep`, so the log stays bounded. */
  compact(keep = 100_000): void {
    this.db.prepare('DELETE FROM change_log WHERE rev <= ?').run(this.revision() - keep);
  }

  subscribe(l: ChangeListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export function json<T>(s: string | null | undefined, fallback: T): T {
  if (s === null || s === undefined || s === '') return fallback;
  return JSON.parse(s) as T;
}

import type { Logger } from '../logger.ts';
import { ReplicaRepository, type ReplicaRow } from '../state/replicas.ts';
import type { Fence, Store } from '../store/store.ts';

/** How long a lease outlives its last renewal, and a heartbeat counts as alive. */
export const LEASE_TTL_MS = 10_000;
/** How often a replica renews its leases and its heartbeat. */
export const RENEW_MS = 2_000;
/** A replica silent this long is forgotten (its row and its agents' connections). */
const FORGET_MS = 60_000;
/** The lease on the controller's own work (notifications, schedules, log compaction). */
export const CONTROLLER_LEASE = 'controller';
/** The lease on one model's workers (provisioner, leadership, cleanup, exposer, …). */
export const modelLease = (model: string): string => `model/${model}`;

/**
 * Decides which leases a replica should try to take and which it should give up, from what
 * it holds, what exists and how many replicas are alive: each holds its fair share
 * (rounded up), so work spreads as replicas join and moves when one stops renewing.
 * Pure; `decideLeases.test.ts` tables it.
 */
export function decideLeases(o: { held: readonly string[]; wanted: readonly string[]; holders: ReadonlyMap<string, string>; alive: number; eligible?: boolean }): { take: string[]; give: string[] } {
  // A replica away from the provider's host stands by while one on it is alive (`eligibleNow`).
  if (o.eligible === false) return { take: [], give: [...o.held] };
  const share = Math.max(1, Math.ceil(o.wanted.length / Math.max(1, o.alive)));
  const held = new Set(o.held);
  // Leases on what no longer exists go back (their workers have nothing left to converge).
  const give = o.held.filter((k) => !o.wanted.includes(k));
  const kept = o.held.filter((k) => o.wanted.includes(k));
  // Above its share, a replica gives back its newest (the controller lease last).
  const extra = kept.length - share;
  if (extra > 0) give.push(...kept.filter((k) => k !== CONTROLLER_LEASE).slice(-extra));
  const take: string[] = [];
  let room = share - Math.min(kept.length, share);
  for (const k of o.wanted) {
    if (room <= 0) break;
    if (held.has(k) || o.holders.has(k)) continue;
    take.push(k);
    room--;
  }
  return { take, give };
}

/** What agents and clients know of the replica set: who is alive, where. */
const signature = (rows: readonly ReplicaRow[]): string => rows.map((r) => `${r.id} ${r.url} ${r.agentUrl}`).join('\n');

/**
 * Which live replicas may hold leases: those on the provider's host while any of them is
 * alive (a model's workers create machines there, publish ports there), else every live one,
 * so a controller whose home host is lost goes on converging what needs no provider call
 * (leadership, cleanup, enlisted machines) from a replica elsewhere.
 */
export function eligibleNow(alive: readonly Pick<ReplicaRow, 'id' | 'home'>[]): Set<string> {
  const home = alive.filter((r) => r.home);
  return new Set((home.length > 0 ? home : alive).map((r) => r.id));
}

export interface ReplicaOptions {
  id: string;
  /** Whether this replica runs on the host where the provider makes machines (default true). */
  home?: boolean;
  /** Where clients (the CLI, the GUI) reach this replica. */
  url: string;
  /** Where machine agents reach it. */
  agentUrl: string;
  log: Logger;
  /** Every lease key there is work for (the controller's, and one per model). */
  wanted: () => string[];
  /** A lease was taken: its workers resync. */
  gained: (key: string) => void;
  /** A lease was lost or given back: its workers stop and let go of what they hold for it. */
  lost: (key: string) => void;
  /** Lease length (default `LEASE_TTL_MS`; tests shorten it). */
  ttlMs?: number;
  /** The replicas alive, or their addresses, differ from the last round's. */
  changed?: () => void;
  /** What the other replicas' agents connections are, after each round. */
  presence?: (rows: ReturnType<ReplicaRepository['remotePresence']>) => void;
}

/**
 * One controller process among replicas sharing a PostgreSQL store. Every `RENEW_MS` it
 * renews its heartbeat and its leases, takes leases no live replica holds (up to its fair
 * share), gives back what is above it, and reads which agents the others hold. A lease is
 * trusted locally only until `LEASE_TTL_MS` after the renewal that confirmed it (the local
 * clock, counted from before the renewal was sent), so a replica cut off from the store stops
 * acting before anyone else can take over; its writes are fenced in any case.
 */
export class ReplicaMembership {
  private readonly repo: ReplicaRepository;
  private readonly held = new Map<string, number>();
  /** The local time until which the held leases may be trusted. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly started = Date.now();
  private aliveCache: ReplicaRow[] = [];
  private readonly ttl: number;

  constructor(store: Store, private readonly o: ReplicaOptions) {
    this.repo = new ReplicaRepository(store);
    this.ttl = o.ttlMs ?? LEASE_TTL_MS;
  }

  get id(): string {
    return this.o.id;
  }

  /** Joins: the connections this replica held before a crash are cleared, then a first round runs. */
  start(): void {
    this.repo.clearPresence(this.o.id);
    this.round();
  }

  /** Whether this replica may act on `key` now. */
  holds(key: string): boolean {
    return this.held.has(key) && performance.now() < this.validUntil;
  }

  /** The fence for work under `key`: its writes pass only while the lease (with this token) is ours. */
  fence(key: string): Fence | undefined {
    const token = this.held.get(key);
    if (token === undefined) return undefined;
    return { check: () => this.repo.checkFence(key, this.o.id, token) };
  }

  /** The replicas alive at the last round (this one included). */
  alive(): ReplicaRow[] {
    return this.aliveCache;
  }

  /** Leases held now, by key (for status and tests). */
  leases(): Map<string, number> {
    return new Map(this.held);
  }

  schedule(signal: AbortSignal): void {
    const next = () => {
      if (this.stopped) return;
      this.round();
      this.timer = setTimeout(next, RENEW_MS);
    };
    this.timer = setTimeout(next, RENEW_MS);
    signal.addEventListener('abort', () => this.stop());
  }

  /** One round: heartbeat, renew, rebalance, read presence. Never throws (a store away is logged and retried). */
  round(): void {
    const sent = performance.now();
    try {
      this.repo.heartbeat(this.o.id, this.o.url, this.o.agentUrl, this.started, this.o.home ?? true);
      const renewed = new Map(this.repo.renew(this.o.id, this.ttl).map((l) => [l.key, l.token]));
      // Trusted a little less than the lease lasts, counted from before the renewal was sent.
      this.validUntil = sent + this.ttl * 0.8;
      for (const key of [...this.held.keys()]) if (renewed.get(key) !== this.held.get(key)) this.drop(key, 'taken by another replica or expired');
      for (const [key, token] of renewed) if (!this.held.has(key)) this.gain(key, token);
      const before = signature(this.aliveCache);
      this.aliveCache = this.repo.alive(this.ttl);
      if (signature(this.aliveCache) !== before) this.o.changed?.();
      const eligible = eligibleNow(this.aliveCache);
      const { take, give } = decideLeases({ held: [...this.held.keys()], wanted: this.o.wanted(), holders: this.repo.holders(), alive: eligible.size, eligible: eligible.has(this.o.id) });
      for (const key of give) {
        this.drop(key, 'given back to balance the replicas');
        this.repo.release(key, this.o.id);
      }
      for (const key of take) {
        const token = this.repo.acquire(key, this.o.id, this.ttl);
        if (token !== undefined) this.gain(key, token);
      }
      const forgotten = this.repo.forgetSilent(FORGET_MS);
      if (forgotten.length > 0) this.o.log.warn('forgot silent controller replicas', { replicas: forgotten });
      this.o.presence?.(this.repo.remotePresence(this.o.id, this.ttl));
    } catch (e) {
      this.o.log.warn('cannot renew controller leases', { error: (e as Error).message });
      if (performance.now() >= this.validUntil) for (const key of [...this.held.keys()]) this.drop(key, 'not renewed in time');
    }
  }

  /** Leaves the replica set: leases are given back at once, so the others take over without waiting for them to expire. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    try {
      this.repo.leave(this.o.id);
    } catch {
      // The store is away: the leases expire by themselves.
    }
    this.held.clear();
  }

  private gain(key: string, token: number): void {
    this.held.set(key, token);
    // `generation`, not `token`: the log redacts fields named token (this one is no secret).
    this.o.log.info('lease taken', { lease: key, generation: token, replica: this.o.id });
    this.o.gained(key);
  }

  private drop(key: string, why: string): void {
    this.held.delete(key);
    this.o.log.warn('lease lost', { lease: key, replica: this.o.id, why });
    this.o.lost(key);
  }
}

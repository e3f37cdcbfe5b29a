import type { RemotePresence } from '../state/replicas.ts';

/** What happened to a machine agent's connections to this process, for the replicas' shared record. */
export type LocalPresenceEvent = 'connect' | 'reconnect' | 'disconnect';

/**
 * Which machine agents are connected: to this process (counted here), and, where replicas
 * share the store, to the others (`setRemote`, from the shared record). A machine is up
 * while its agent is connected to any live replica.
 */
export class PresenceTracker {
  private readonly conns = new Map<string, number>();
  private readonly leftAt = new Map<string, number>();
  private readonly since = new Map<string, number>();
  private readonly latest = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private remote = new Map<string, { since: number; latest: number }>();
  /** Told when this process's first connection of a machine opens, a newer one opens, or its last closes. */
  onLocal: ((model: string, machine: string, event: LocalPresenceEvent, at: number) => void) | undefined;

  /** Agents are owed the time since this process started before they count as away. */
  constructor(private readonly now: () => number = Date.now, private readonly startedAt = now()) {}

  connected(model: string, machine: string): boolean {
    const k = `${model}/${machine}`;
    return (this.conns.get(k) ?? 0) > 0 || this.remote.has(k);
  }

  /** How long the machine's agent has been disconnected: 0 while connected. */
  awayMs(model: string, machine: string): number {
    if (this.connected(model, machine)) return 0;
    return this.now() - (this.leftAt.get(`${model}/${machine}`) ?? this.startedAt);
  }

  /** Whether the machine's agent has connected at all since this process started. */
  seen(model: string, machine: string): boolean {
    return this.since.has(`${model}/${machine}`);
  }

  /** When the machine's agent last connected (from not connected), while it is connected. */
  connectedSince(model: string, machine: string): number | undefined {
    return this.connected(model, machine) ? this.since.get(`${model}/${machine}`) : undefined;
  }

  /** When the machine's newest connection opened, while it is connected (an agent restarted before its old connection was seen to close). */
  lastConnect(model: string, machine: string): number | undefined {
    if (!this.connected(model, machine)) return undefined;
    const k = `${model}/${machine}`;
    return Math.max(this.latest.get(k) ?? 0, this.remote.get(k)?.latest ?? 0) || undefined;
  }

  add(model: string, machine: string): () => void {
    const k = `${model}/${machine}`;
    const at = this.now();
    const local = this.conns.get(k) ?? 0;
    if (!this.connected(model, machine)) this.since.set(k, at);
    this.latest.set(k, at);
    this.conns.set(k, local + 1);
    this.onLocal?.(model, machine, local === 0 ? 'connect' : 'reconnect', at);
    this.emit();
    return () => {
      const left = (this.conns.get(k) ?? 1) - 1;
      this.conns.set(k, left);
      if (left === 0) {
        this.onLocal?.(model, machine, 'disconnect', this.now());
        if (!this.remote.has(k)) this.leftAt.set(k, this.now());
      }
      this.emit();
    };
  }

  /**
   * The agents connected to the other live replicas (replaces what was known): the
   * machines whose connectedness changed come back, for the workers that read it.
   */
  setRemote(entries: readonly RemotePresence[]): { model: string; machine: string }[] {
    const next = new Map(entries.map((e) => [`${e.model}/${e.machine}`, { since: e.since, latest: e.latest }]));
    const changed: { model: string; machine: string }[] = [];
    const at = this.now();
    for (const [k, e] of next) {
      if (this.remote.has(k) || (this.conns.get(k) ?? 0) > 0) continue;
      this.since.set(k, e.since);
      changed.push(split(k));
    }
    for (const k of this.remote.keys()) {
      if (next.has(k) || (this.conns.get(k) ?? 0) > 0) continue;
      this.leftAt.set(k, at);
      changed.push(split(k));
    }
    this.remote = next;
    if (changed.length > 0) this.emit();
    return changed;
  }

  /** The machines connected to this process, for the shared record (rewritten whole after a write to it failed). */
  localEntries(): { model: string; machine: string; since: number; latest: number }[] {
    return [...this.conns].filter(([, n]) => n > 0).map(([k]) => ({ ...split(k), since: this.since.get(k) ?? this.now(), latest: this.latest.get(k) ?? this.now() }));
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

function split(k: string): { model: string; machine: string } {
  const i = k.indexOf('/');
  return { model: k.slice(0, i), machine: k.slice(i + 1) };
}

/** Which machine agents hold a watch connection now. Presence is not stored: it is a fact about this process. */
export class PresenceTracker {
  private readonly conns = new Map<string, number>();
  private readonly leftAt = new Map<string, number>();
  private readonly since = new Map<string, number>();
  private readonly latest = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  /** Agents are owed the time since this process started before they count as away. */
  constructor(private readonly now: () => number = Date.now, private readonly startedAt = now()) {}

  connected(model: string, machine: string): boolean {
    return (this.conns.get(`${model}/${machine}`) ?? 0) > 0;
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
    return this.connected(model, machine) ? this.latest.get(`${model}/${machine}`) : undefined;
  }

  add(model: string, machine: string): () => void {
    const k = `${model}/${machine}`;
    if (!this.connected(model, machine)) this.since.set(k, this.now());
    this.latest.set(k, this.now());
    this.conns.set(k, (this.conns.get(k) ?? 0) + 1);
    this.emit();
    return () => {
      const left = (this.conns.get(k) ?? 1) - 1;
      this.conns.set(k, left);
      if (left === 0) this.leftAt.set(k, this.now());
      this.emit();
    };
  }

  onChange(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

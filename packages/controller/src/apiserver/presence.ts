/** Which machine agents hold a watch connection now. Presence is not stored: it is a fact about this process. */
export class PresenceTracker {
  private readonly conns = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  connected(model: string, machine: string): boolean {
    return (this.conns.get(`${model}/${machine}`) ?? 0) > 0;
  }

  add(model: string, machine: string): () => void {
    const k = `${model}/${machine}`;
    this.conns.set(k, (this.conns.get(k) ?? 0) + 1);
    this.emit();
    return () => {
      this.conns.set(k, (this.conns.get(k) ?? 1) - 1);
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

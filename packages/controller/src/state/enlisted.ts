import type { Store } from '../store/store.ts';

/** What a host reported when it was enlisted, shown by status as Juju's hardware line. */
export interface HostHardware {
  arch: string;
  cores: number;
  /** MiB */
  mem: number;
  /** MiB free under /opt when enlisted */
  disk: number;
  /** The OS it reported with its hardware, as Juju's machine base (absent: enlisted before it was recorded). */
  base?: { name: string; channel: string };
}

export interface EnlistedMachine {
  model: string;
  id: string;
  /** user@host:port, as the operator named it. */
  target: string;
  hardware: HostHardware;
  /** How the agent runs there: `systemd`, or `supervised` on a host without systemd as PID 1. */
  init: string;
  forceRemove: boolean;
}

interface Raw {
  model: string;
  id: string;
  target: string;
  hardware: string;
  init: string;
  force_remove: number;
}

const toEnlisted = (r: Raw): EnlistedMachine => ({
  model: r.model,
  id: r.id,
  target: r.target,
  hardware: JSON.parse(r.hardware) as HostHardware,
  init: r.init,
  forceRemove: r.force_remove === 1,
});

/** The `enlisted_machines` table: which machines are hosts Sigil did not create. */
export class EnlistedRepository {
  constructor(private readonly s: Store) {}

  get(model: string, id: string): EnlistedMachine | undefined {
    const r = this.s.db.prepare('SELECT * FROM enlisted_machines WHERE model = ? AND id = ?').get(model, id) as Raw | undefined;
    return r ? toEnlisted(r) : undefined;
  }

  list(model: string): EnlistedMachine[] {
    return (this.s.db.prepare('SELECT * FROM enlisted_machines WHERE model = ?').all(model) as Raw[]).map(toEnlisted);
  }

  /** Whether another live machine of the controller already is this host. */
  byTarget(target: string): EnlistedMachine | undefined {
    const r = this.s.db.prepare('SELECT * FROM enlisted_machines WHERE target = ?').get(target) as Raw | undefined;
    return r ? toEnlisted(r) : undefined;
  }

  insert(e: Omit<EnlistedMachine, 'forceRemove'>): void {
    this.s.db.prepare('INSERT INTO enlisted_machines (model, id, target, hardware, init, force_remove) VALUES (?, ?, ?, ?, ?, 0)')
      .run(e.model, e.id, e.target, JSON.stringify(e.hardware), e.init);
  }

  markForce(model: string, id: string): void {
    this.s.db.prepare('UPDATE enlisted_machines SET force_remove = 1 WHERE model = ? AND id = ?').run(model, id);
  }

  delete(model: string, id: string): void {
    this.s.db.prepare('DELETE FROM enlisted_machines WHERE model = ? AND id = ?').run(model, id);
  }
}

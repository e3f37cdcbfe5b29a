import { json, type Store } from '../store/store.ts';

/** A model's row. */
export interface ModelRecord {
  name: string;
  uuid: string;
  life: string;
  /** The configuration keys set on the model (the domain fills in the defaults). */
  config: Record<string, unknown>;
}

/** The tables a model's counts in `show-model` come from. */
export type CountedTable = 'machines' | 'applications' | 'units';

/** The tables holding a model's rows, removed with it once it is empty. */
const MODEL_TABLES = ['applications', 'units', 'machines', 'relations', 'relation_scopes', 'relation_settings', 'charms', 'charm_provenance', 'operations', 'logs', 'ssh_keys', 'credential_rotations', 'schedules', 'enlisted_machines', 'container_sequences', 'offers', 'saas', 'relation_links', 'remote_offers', 'remote_sides'] as const;

/** The `models` table, and the removal of everything in a model. Callers hold the transaction. */
export class ModelRepository {
  constructor(private readonly s: Store) {}

  /** The model's life, or undefined when there is no such model. */
  life(name: string): string | undefined {
    return (this.s.db.prepare('SELECT life FROM models WHERE name = ?').get(name) as { life: string } | undefined)?.life;
  }

  insert(name: string, uuid: string, config: object, created: number): void {
    this.s.db
      .prepare('INSERT INTO models (name, uuid, config, life, created) VALUES (?, ?, ?, ?, ?)')
      .run(name, uuid, JSON.stringify(config), 'alive', created);
    this.s.changed(name, 'model', name);
  }

  get(name: string): ModelRecord | undefined {
    const r = this.s.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as Record<string, unknown> | undefined;
    return r ? { name, uuid: r.uuid as string, life: r.life as string, config: json<Record<string, unknown>>(r.config as string, {}) } : undefined;
  }

  /** How many rows of `table` the model has. */
  count(table: CountedTable, name: string): number {
    return (this.s.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE model = ?`).get(name) as { n: number }).n;
  }

  /** The configuration keys set on the model, or undefined when there is no such model. */
  config(name: string): Record<string, unknown> | undefined {
    const r = this.s.db.prepare('SELECT config FROM models WHERE name = ?').get(name) as { config: string } | undefined;
    return r ? json<Record<string, unknown>>(r.config, {}) : undefined;
  }

  /** The model's UUID, or undefined when there is no such model. */
  uuid(name: string): string | undefined {
    return (this.s.db.prepare('SELECT uuid FROM models WHERE name = ?').get(name) as { uuid: string } | undefined)?.uuid;
  }

  names(): string[] {
    return (this.s.db.prepare('SELECT name FROM models ORDER BY name').all() as { name: string }[]).map((n) => n.name);
  }

  setConfig(name: string, config: object): void {
    this.s.db.prepare('UPDATE models SET config = ? WHERE name = ?').run(JSON.stringify(config), name);
    this.s.changed(name, 'model', name);
  }

  /** The model and everything alive in it start dying. */
  markDying(name: string): void {
    this.s.db.prepare("UPDATE models SET life = 'dying' WHERE name = ?").run(name);
    this.s.db.prepare("UPDATE applications SET life = 'dying' WHERE model = ?").run(name);
    this.s.db.prepare("UPDATE units SET life = 'dying' WHERE model = ? AND life = 'alive'").run(name);
    this.s.db.prepare("UPDATE relations SET life = 'dying' WHERE model = ? AND life = 'alive'").run(name);
    this.s.db.prepare("UPDATE machines SET life = 'dying' WHERE model = ? AND life = 'alive'").run(name);
    this.s.changed(name, 'model', name);
  }

  /** The model's row and every row in it, and the grants on its offers. */
  remove(name: string): void {
    for (const t of MODEL_TABLES) {
      this.s.db.prepare(`DELETE FROM ${t} WHERE model = ?`).run(name);
    }
    this.s.db.prepare('DELETE FROM offer_access WHERE offer_model = ?').run(name);
    this.s.db.prepare('DELETE FROM offer_tokens WHERE offer_model = ?').run(name);
    this.s.db.prepare('DELETE FROM models WHERE name = ?').run(name);
    this.s.changed(name, 'model', name, 'remove');
  }

  /** Takes the model's next machine number. */
  nextMachineId(name: string): number {
    return (this.s.db.prepare('UPDATE models SET next_machine = next_machine + 1 WHERE name = ? RETURNING next_machine - 1 AS id').get(name) as { id: number }).id;
  }
}

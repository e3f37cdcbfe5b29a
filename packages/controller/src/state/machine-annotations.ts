import type { Store } from '../store/store.ts';

/** The `machine_annotations` table: a machine's annotations (bundles set them; export-bundle writes them). */
export class MachineAnnotationRepository {
  constructor(private readonly s: Store) {}

  insert(model: string, id: string, annotations: Record<string, string>): void {
    this.s.db.prepare('INSERT INTO machine_annotations (model, id, annotations) VALUES (?, ?, ?)').run(model, id, JSON.stringify(annotations));
  }

  all(model: string): Map<string, Record<string, string>> {
    const rows = this.s.db.prepare('SELECT id, annotations FROM machine_annotations WHERE model = ?').all(model) as { id: string; annotations: string }[];
    return new Map(rows.map((r) => [r.id, JSON.parse(r.annotations) as Record<string, string>]));
  }
}

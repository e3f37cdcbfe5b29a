import { gunzipSync, gzipSync } from 'node:zlib';
import type { AuditReport, EmbeddedCopy, IndexedRelease } from '@sigil/api';
import type { Store } from '../store/store.ts';

/** A unit's stored collection: the report less its file list, which is read only for matching. */
export type StoredReport = Omit<AuditReport, 'files'> & { filesHashed: number };

export interface ReleaseRow { id: number; name: string; version: string; source: string; files: number; added: number }

/**
 * The inventory tables: per-unit reports and collection requests, and the fingerprint index
 * of known releases. Every statement about them lives here.
 */
export class InventoryRepository {
  constructor(private readonly s: Store) {}

  saveReport(model: string, r: AuditReport, embedded: EmbeddedCopy[], indexGen: number): void {
    const { files, ...rest } = r;
    const data: StoredReport = { ...rest, filesHashed: files.length };
    this.s.db.prepare('INSERT OR REPLACE INTO audit_reports (model, unit, collected_at, data, files, embedded, index_gen) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(model, r.unit, r.collectedAt, JSON.stringify(data), gzipSync(JSON.stringify(files)), JSON.stringify(embedded), indexGen);
  }

  report(model: string, unit: string): { data: StoredReport; embedded: EmbeddedCopy[]; indexGen: number } | undefined {
    const row = this.s.db.prepare('SELECT data, embedded, index_gen AS indexGen FROM audit_reports WHERE model = ? AND unit = ?').get(model, unit) as { data: string; embedded: string; indexGen: number } | undefined;
    return row && { data: JSON.parse(row.data) as StoredReport, embedded: JSON.parse(row.embedded) as EmbeddedCopy[], indexGen: row.indexGen };
  }

  files(model: string, unit: string): [string, string][] {
    const row = this.s.db.prepare('SELECT files FROM audit_reports WHERE model = ? AND unit = ?').get(model, unit) as { files: Buffer } | undefined;
    return row ? (JSON.parse(gunzipSync(row.files).toString('utf8')) as [string, string][]) : [];
  }

  updateEmbedded(model: string, unit: string, embedded: EmbeddedCopy[], indexGen: number): void {
    this.s.db.prepare('UPDATE audit_reports SET embedded = ?, index_gen = ? WHERE model = ? AND unit = ?').run(JSON.stringify(embedded), indexGen, model, unit);
  }

  reportedUnits(model: string): { unit: string; collectedAt: number }[] {
    return this.s.db.prepare('SELECT unit, collected_at AS collectedAt FROM audit_reports WHERE model = ? ORDER BY unit').all(model) as { unit: string; collectedAt: number }[];
  }

  /** Per-unit counts for status, read in one statement (no report is parsed whole). */
  counts(model: string): Map<string, { collectedAt: number; packages: number; modified: number; embedded: number }> {
    const rows = this.s.db.prepare(`SELECT unit, collected_at AS collectedAt, json_array_length(data, '$.packages') AS packages,
      json_array_length(data, '$.changed') AS modified, json_array_length(embedded) AS embedded FROM audit_reports WHERE model = ?`).all(model) as { unit: string; collectedAt: number; packages: number; modified: number; embedded: number }[];
    return new Map(rows.map((r) => [r.unit, { collectedAt: r.collectedAt, packages: r.packages, modified: r.modified, embedded: r.embedded }]));
  }

  deleteReportsExcept(model: string, units: string[]): void {
    const keep = new Set(units);
    for (const r of this.reportedUnits(model)) if (!keep.has(r.unit)) this.s.db.prepare('DELETE FROM audit_reports WHERE model = ? AND unit = ?').run(model, r.unit);
  }

  /** Asks for a new collection of a unit; returns the request's number. */
  request(model: string, unit: string, now: number): number {
    this.s.db.prepare(`INSERT INTO audit_requests (model, unit, requested, done, requested_at) VALUES (?, ?, 1, 0, ?)
      ON CONFLICT (model, unit) DO UPDATE SET requested = audit_requests.requested + 1, requested_at = excluded.requested_at`).run(model, unit, now);
    return (this.s.db.prepare('SELECT requested FROM audit_requests WHERE model = ? AND unit = ?').get(model, unit) as { requested: number }).requested;
  }

  markDone(model: string, unit: string, request: number): void {
    this.s.db.prepare('UPDATE audit_requests SET done = MAX(done, ?) WHERE model = ? AND unit = ?').run(request, model, unit);
  }

  /** Requests not yet answered, for the given units. */
  pending(model: string, units: readonly string[]): Map<string, number> {
    if (units.length === 0) return new Map();
    const rows = this.s.db.prepare(`SELECT unit, requested FROM audit_requests WHERE model = ? AND requested > done AND unit IN (${units.map(() => '?').join(', ')})`).all(model, ...units) as { unit: string; requested: number }[];
    return new Map(rows.map((r) => [r.unit, r.requested]));
  }

  requests(model: string): Map<string, { requested: number; done: number; requestedAt: number }> {
    const rows = this.s.db.prepare('SELECT unit, requested, done, requested_at AS requestedAt FROM audit_requests WHERE model = ?').all(model) as { unit: string; requested: number; done: number; requestedAt: number }[];
    return new Map(rows.map((r) => [r.unit, r]));
  }

  // The fingerprint index.

  indexGeneration(): number {
    const r = this.s.db.prepare("SELECT value FROM meta WHERE key = 'audit_index_gen'").get() as { value: string } | undefined;
    return r ? Number(r.value) : 0;
  }

  private bumpGeneration(): void {
    this.s.db.prepare("INSERT INTO meta (key, value) VALUES ('audit_index_gen', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1").run();
  }

  /** Adds (or replaces) a release; its files are [relative path, md5 hex]. */
  addRelease(name: string, version: string, source: string, files: readonly (readonly [string, string])[]): ReleaseRow {
    return this.s.tx(() => {
      const old = this.s.db.prepare('SELECT id FROM audit_releases WHERE name = ? AND version = ? AND source = ?').get(name, version, source) as { id: number } | undefined;
      if (old) {
        this.s.db.prepare('DELETE FROM audit_release_files WHERE release = ?').run(old.id);
        this.s.db.prepare('DELETE FROM audit_releases WHERE id = ?').run(old.id);
      }
      const unique = new Map(files.map(([p, h]) => [p, h]));
      const id = Number(this.s.db.prepare('INSERT INTO audit_releases (name, version, source, files, added) VALUES (?, ?, ?, ?, ?)').run(name, version, source, unique.size, Date.now()).lastInsertRowid);
      const insert = this.s.db.prepare('INSERT INTO audit_release_files (release, md5, path) VALUES (?, ?, ?)');
      for (const [p, h] of unique) insert.run(id, Buffer.from(h, 'hex'), p);
      this.bumpGeneration();
      return this.s.db.prepare('SELECT id, name, version, source, files, added FROM audit_releases WHERE id = ?').get(id) as ReleaseRow;
    });
  }

  hasRelease(name: string, version: string, source: string): boolean {
    return this.s.db.prepare('SELECT 1 FROM audit_releases WHERE name = ? AND version = ? AND source = ?').get(name, version, source) !== undefined;
  }

  removeRelease(name: string, version: string): number {
    return this.s.tx(() => {
      const ids = this.s.db.prepare('SELECT id FROM audit_releases WHERE name = ? AND version = ?').all(name, version) as { id: number }[];
      for (const { id } of ids) {
        this.s.db.prepare('DELETE FROM audit_release_files WHERE release = ?').run(id);
        this.s.db.prepare('DELETE FROM audit_releases WHERE id = ?').run(id);
      }
      if (ids.length > 0) this.bumpGeneration();
      return ids.length;
    });
  }

  releases(): (IndexedRelease & { id: number })[] {
    return this.s.db.prepare('SELECT id, name, version, source, files, added FROM audit_releases ORDER BY name, version').all() as (IndexedRelease & { id: number })[];
  }

  /** Every indexed file, release by release, streamed (the index can hold millions). */
  *releaseFiles(): Generator<{ release: number; md5: Buffer; path: string }> {
    yield* this.s.db.prepare('SELECT release, md5, path FROM audit_release_files').iterate() as Iterable<{ release: number; md5: Buffer; path: string }>;
  }
}

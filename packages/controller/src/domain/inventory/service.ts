import type { AuditPackagesRequest, AuditReport, AuditUnitSummary, EmbeddedCopy, IndexedRelease, UnitInventory, WantedPackage } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Store } from '../../store/store.ts';
import { Reads } from '../../state/rows.ts';
import { InventoryRepository } from '../../state/inventory.ts';
import { FingerprintIndex, findEmbedded, packagePayload } from './fingerprints.ts';

/** Hooks after which a unit's software has changed: its inventory is collected again. */
const COLLECT_AFTER = new Set(['install', 'upgrade-charm']);

/** Packages asked for per collection at most; the next collection asks for the rest. */
const WANTED_PER_COLLECTION = 2000;

/** Where the index's releases come from when an agent saw them installed. */
const SEEN = 'dpkg';

/**
 * The software inventory (issue 19): asks agents to collect, keeps what they report, and
 * matches the files they hashed against the fingerprint index. A report is matched when it
 * arrives and again on the first read after the index grew, so a release indexed today is
 * found in yesterday's collections.
 */
export class Inventory {
  readonly repo: InventoryRepository;
  private readonly reads: Reads;
  private cached: { gen: number; ix: FingerprintIndex } | undefined;

  constructor(private readonly s: Store) {
    this.repo = new InventoryRepository(s);
    this.reads = new Reads(s);
  }

  /** The index for the current generation, built once per generation. */
  index(): { gen: number; ix: FingerprintIndex } {
    const gen = this.repo.indexGeneration();
    if (this.cached?.gen === gen) return this.cached;
    const rows = this.repo.releases();
    const pos = new Map(rows.map((r, i) => [r.id, i]));
    const entries = (function* (it: Iterable<{ release: number; md5: Buffer; path: string }>) {
      for (const e of it) yield { release: pos.get(e.release) ?? Number.MAX_SAFE_INTEGER, md5: e.md5, path: e.path };
    })(this.repo.releaseFiles());
    this.cached = { gen, ix: FingerprintIndex.build(rows.map((r) => ({ name: r.name, version: r.version, source: r.source })), entries) };
    return this.cached;
  }

  /** Stores a collection an agent sent, matched against the index; names the installed packages the index lacks. */
  receive(model: string, report: AuditReport): { embedded: number; indexWanted: WantedPackage[] } {
    const { gen, ix } = this.index();
    const embedded = findEmbedded(ix, report.files);
    this.s.tx(() => {
      this.repo.saveReport(model, report, embedded, gen);
      if (report.request > 0) this.repo.markDone(model, report.unit, report.request);
      const machine = this.reads.unit(model, report.unit)?.machine;
      // The machine's view lists pending requests: answering one changes it.
      if (machine) this.s.changed(model, 'machine', machine, 'status');
      this.s.changed(model, 'unit', report.unit, 'status');
    });
    const indexWanted = report.packages.filter((p) => !this.indexed(p.name, p.version)).slice(0, WANTED_PER_COLLECTION).map(({ name, version, arch }) => ({ name, version, arch }));
    return { embedded: embedded.length, indexWanted };
  }

  private indexed(name: string, version: string): boolean {
    return this.repo.hasRelease(name, version, SEEN) || this.repo.hasRelease(name, version, 'deb');
  }

  /**
   * Indexes the files of packages a unit has installed, as its agent read them from dpkg's
   * md5sums: only packages (at the version) the unit's last collection listed, and only
   * those not indexed yet; anything else is refused and nothing is added. Returns how many
   * were added.
   */
  indexPackages(model: string, req: AuditPackagesRequest): number {
    const installed = new Set((this.repo.report(model, req.unit)?.data.packages ?? []).map((p) => `${p.name}=${p.version}`));
    const strange = req.packages.find((p) => !installed.has(`${p.name}=${p.version}`));
    if (strange) throw new SigilError('forbidden', `${strange.name}=${strange.version} is not installed on ${req.unit} by its last collection`, 'an agent sends the files of the packages the controller asked for after a collection');
    const bad = req.packages.find((p) => p.files.some(([path]) => path.startsWith('/') || path.split('/').includes('..')));
    if (bad) throw new SigilError('bad-request', `${bad.name}: package file paths must be relative to / and without ".."`, 'send paths as dpkg\'s md5sums lists them');
    return this.s.tx(() => {
      let added = 0;
      for (const p of req.packages) {
        if (this.indexed(p.name, p.version) || p.files.length === 0) continue;
        this.repo.addRelease(p.name, p.version, SEEN, packagePayload(p.files));
        added++;
      }
      return added;
    });
  }

  private embedded(model: string, unit: string, stored: { embedded: EmbeddedCopy[]; indexGen: number }): EmbeddedCopy[] {
    const { gen, ix } = this.index();
    if (stored.indexGen === gen) return stored.embedded;
    const embedded = findEmbedded(ix, this.repo.files(model, unit));
    this.repo.updateEmbedded(model, unit, embedded, gen);
    return embedded;
  }

  /** The inventories of the named units (every unit of the model when none is named) that have one. */
  inventories(model: string, units: readonly string[] = []): UnitInventory[] {
    const all = this.reads.units(model);
    const names = units.length > 0 ? units : all.map((u) => u.name);
    const out: UnitInventory[] = [];
    for (const name of names) {
      const stored = this.repo.report(model, name);
      if (!stored) continue;
      const d = stored.data;
      out.push({
        unit: name,
        machine: all.find((u) => u.name === name)?.machine ?? '',
        collectedAt: d.collectedAt,
        ms: d.ms,
        packages: d.packages,
        changed: d.changed,
        charm: d.charm,
        language: d.language,
        embedded: this.embedded(model, name, stored),
        roots: d.roots,
        filesHashed: d.filesHashed,
        skipped: d.skipped,
      });
    }
    return out;
  }

  summary(model: string): AuditUnitSummary[] {
    this.refreshStale(model);
    const counts = this.repo.counts(model);
    const requests = this.repo.requests(model);
    return this.reads.units(model).map((u) => {
      const r = requests.get(u.name);
      return { unit: u.name, machine: u.machine ?? '', counts: counts.get(u.name) ?? null, pending: r !== undefined && r.requested > r.done };
    });
  }

  /** Counts for status: read from the stored matches (re-matched first when the index grew). */
  counts(model: string): ReturnType<InventoryRepository['counts']> {
    this.refreshStale(model);
    return this.repo.counts(model);
  }

  /** Matches again the reports of a model matched against an older index. */
  refreshStale(model: string): void {
    const gen = this.repo.indexGeneration();
    for (const { unit } of this.repo.reportedUnits(model)) {
      const stored = this.repo.report(model, unit);
      if (stored && stored.indexGen !== gen) this.embedded(model, unit, stored);
    }
  }

  /**
   * Asks for collections: targets are units (`app/0`), machines (`0`) or applications; none
   * means every unit. Unknown targets are refused before anything is asked.
   */
  requestCollect(model: string, targets: readonly string[], now = Date.now()): { unit: string; request: number }[] {
    return this.s.tx(() => {
      const units = this.reads.units(model).filter((u) => u.life === 'alive');
      const chosen = new Set<string>();
      for (const t of targets) {
        const hit = /^\d+$/.test(t) ? units.filter((u) => u.machine === t) : t.includes('/') ? units.filter((u) => u.name === t) : units.filter((u) => u.app === t);
        if (hit.length === 0) throw new SigilError('not-found', `no unit, machine or application "${t}" with units in model ${model}`, 'name a unit (app/0), a machine (0) or an application; see `sigil status`');
        for (const u of hit) chosen.add(u.name);
      }
      const list = targets.length === 0 ? units : units.filter((u) => chosen.has(u.name));
      return list.map((u) => {
        const request = this.repo.request(model, u.name, now);
        if (u.machine) this.s.changed(model, 'machine', u.machine);
        return { unit: u.name, request };
      });
    });
  }

  /** Called in a hook's commit: install and upgrade-charm change what the unit runs. */
  afterHook(model: string, unit: string, hook: string): void {
    if (!COLLECT_AFTER.has(hook)) return;
    const u = this.reads.unit(model, unit);
    this.repo.request(model, unit, Date.now());
    if (u?.machine) this.s.changed(model, 'machine', u.machine);
  }

  /**
   * Asks again for units whose last collection is older than the model's `audit-interval`
   * (and that have no request open); `0` turns the schedule off.
   */
  scheduleDue(model: string, interval: string, now = Date.now()): string[] {
    const every = interval === '0' ? 0 : parseDuration(interval);
    if (every <= 0) return [];
    const reported = new Map(this.repo.reportedUnits(model).map((r) => [r.unit, r.collectedAt]));
    const requests = this.repo.requests(model);
    const due = this.reads.units(model).filter((u) => {
      if (u.life !== 'alive' || !u.machine) return false;
      // A unit still installing is collected once its install hook commits (afterHook):
      // one collected now would run beside the install and be replaced at once.
      if (!reported.has(u.name) && u.settled === 0) return false;
      const r = requests.get(u.name);
      if (r && r.requested > r.done) return false;
      const last = Math.max(reported.get(u.name) ?? 0, r?.requestedAt ?? 0);
      return now - last >= every;
    });
    if (due.length === 0) return [];
    this.s.tx(() => {
      for (const u of due) {
        this.repo.request(model, u.name, now);
        this.s.changed(model, 'machine', u.machine!);
      }
    });
    return due.map((u) => u.name);
  }

  listIndex(): IndexedRelease[] {
    return this.repo.releases().map(({ name, version, source, files, added }) => ({ name, version, source, files, added }));
  }
}

/**
 * The software inventory of units (issue 19): what an agent collects on its machine, what
 * the controller keeps per unit, and what `sigil audit …` and the GUI read back.
 */

/** An installed Debian package (`dpkg-query` "install ok installed"). */
export interface InventoryPackage {
  name: string;
  version: string;
  arch: string;
  /** The source package, when it is named differently (OSV's Debian advisories name source packages). */
  source?: string;
}

/** A file that differs from what its package shipped, as `debsums` reports it. */
export interface ChangedFile {
  package: string;
  /** Absolute path on the machine. */
  path: string;
  state: 'modified' | 'missing';
}

/** A package of a language ecosystem found on disk, named with OSV's ecosystem names. */
export interface LanguagePackage {
  ecosystem: 'npm' | 'PyPI' | 'Packagist' | 'Go' | 'RubyGems';
  name: string;
  version: string;
  /** The file it was read from. */
  path: string;
}

/** The unit's charm directory, and its provenance when it carries Codetree collect-info. */
export interface CharmInventory {
  files: number;
  collected: boolean;
  source?: string;
  commit?: string;
  collectDate?: string;
  /** Files whose sha256 differs from collect-info's, and files it lists that are absent. */
  modified: string[];
  missing: string[];
}

/** Files the collector passed over, by reason, with a few examples. */
export interface SkipSummary {
  count: number;
  byReason: Record<string, number>;
  samples: { path: string; reason: string }[];
}

/**
 * What an agent sends after collecting a unit. `files` are the hashed files outside dpkg's
 * ownership as [absolute path, md5 hex]: the controller matches them against its index of
 * known releases, now and whenever the index grows.
 */
export interface AuditReport {
  unit: string;
  /** The request this collection answers (0 when the agent collected on its own). */
  request: number;
  collectedAt: number;
  packages: InventoryPackage[];
  changed: ChangedFile[];
  charm: CharmInventory;
  language: LanguagePackage[];
  /** The directories that were searched for embedded copies. */
  roots: string[];
  files: [string, string][];
  skipped: SkipSummary;
  /** Milliseconds the collection took on the machine. */
  ms: number;
}

/** An installed package the fingerprint index lacks: the controller asks the agent for its files. */
export interface WantedPackage {
  name: string;
  version: string;
  arch: string;
}

/**
 * The controller's answer to a collection: how many embedded copies it found, and which of
 * the unit's installed packages it has not indexed yet (the agent sends their files next,
 * `POST /api/agent/audit/packages`), so every package version Sigil has seen on a machine
 * is in the index.
 */
export interface AuditReportAnswer {
  ok: true;
  embedded: number;
  indexWanted: WantedPackage[];
}

/** The body of `POST /api/agent/audit/packages`: installed packages' files as dpkg lists them, [path relative to /, md5 hex]. */
export interface AuditPackagesRequest {
  unit: string;
  packages: { name: string; version: string; files: [string, string][] }[];
}

/**
 * A release of some software found copied into a directory, matched by file content:
 * `exact` holds every file of the release unchanged, `modified` holds files at the
 * release's paths whose content differs (listed), `subset` holds part of the release and
 * nothing changed (a vendored subset).
 */
export interface EmbeddedCopy {
  name: string;
  version: string;
  /** The directory that holds the copy (it may have been renamed: matching is by content). */
  dir: string;
  matched: number;
  total: number;
  /** matched / total, in percent, rounded down to one decimal. */
  share: number;
  kind: 'exact' | 'modified' | 'subset';
  /** Paths (under `dir`) of the release's files present with other content. */
  differing: string[];
  /** How many of the release's files are absent. */
  absent: number;
  /** Where the release came from: `dpkg`, `deb` or `upstream`. */
  source: string;
  /** A few matched files, as evidence. */
  evidence: string[];
}

/** One unit's inventory, as `sigil audit show` prints it. */
export interface UnitInventory {
  unit: string;
  machine: string;
  collectedAt: number;
  ms: number;
  packages: InventoryPackage[];
  changed: ChangedFile[];
  charm: CharmInventory;
  language: LanguagePackage[];
  embedded: EmbeddedCopy[];
  roots: string[];
  filesHashed: number;
  skipped: SkipSummary;
}

/** Per-unit counts shown by `status` and the GUI. */
export interface AuditCounts {
  collectedAt: number;
  packages: number;
  modified: number;
  embedded: number;
}

/** One row of `GET /api/models/:model/audit`: a unit's counts, and whether a collection is pending. */
export interface AuditUnitSummary {
  unit: string;
  machine: string;
  counts: AuditCounts | null;
  pending: boolean;
}

/** A release in the fingerprint index. */
export interface IndexedRelease {
  name: string;
  version: string;
  source: string;
  files: number;
  added: number;
}

/** The body of `POST /api/audit/index`: one release's files as [path relative to its top, md5 hex]. */
export interface IndexAddRequest {
  name: string;
  version: string;
  source: 'upstream' | 'deb';
  files: [string, string][];
}

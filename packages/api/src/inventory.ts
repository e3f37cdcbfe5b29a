/**
 * The software inventory of units (issue 19): what an agent collects on its machine, what
 * the controller keeps per unit, and what `sigil audit …` and the GUI read back.
 */
import { Type, type Static } from '@sinclair/typebox';

const str = (max: number) => Type.String({ maxLength: max });
const PATH = str(4096);
const MD5 = Type.String({ pattern: '^[0-9a-f]{32}$' });
const NAME = Type.String({ minLength: 1, maxLength: 214, pattern: '^[A-Za-z0-9@][A-Za-z0-9@._+/~-]*$' });
const VERSION = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._+~:-]*$' });
/** Files per report and per release at most: a bigger tree was cut by the agent's own limit. */
const MAX_FILES = 1_000_000;
/** A file of a release or an installed package: [path relative to its top, md5 hex]. */
const RelativeFile = Type.Tuple([Type.String({ minLength: 1, maxLength: 4096 }), MD5]);

/** An installed Debian package (`dpkg-query` "install ok installed"). */
export const InventoryPackage = Type.Object({
  name: str(256),
  version: str(256),
  arch: str(64),
  /** The source package, when it is named differently (OSV's Debian advisories name source packages). */
  source: Type.Optional(str(256)),
}, { additionalProperties: false });
export type InventoryPackage = Static<typeof InventoryPackage>;

/** A file that differs from what its package shipped, as `debsums` reports it. */
export const ChangedFile = Type.Object({
  package: str(256),
  /** Absolute path on the machine. */
  path: PATH,
  state: Type.Union([Type.Literal('modified'), Type.Literal('missing')]),
}, { additionalProperties: false });
export type ChangedFile = Static<typeof ChangedFile>;

/** A package of a language ecosystem found on disk, named with OSV's ecosystem names. */
export const LanguagePackage = Type.Object({
  ecosystem: Type.Union([Type.Literal('npm'), Type.Literal('PyPI'), Type.Literal('Packagist'), Type.Literal('Go'), Type.Literal('RubyGems')]),
  name: str(256),
  version: str(256),
  /** The file it was read from. */
  path: PATH,
}, { additionalProperties: false });
export type LanguagePackage = Static<typeof LanguagePackage>;

/** The unit's charm directory, and its provenance when it carries Codetree collect-info. */
export const CharmInventory = Type.Object({
  files: Type.Integer({ minimum: 0 }),
  collected: Type.Boolean(),
  source: Type.Optional(PATH),
  commit: Type.Optional(str(256)),
  collectDate: Type.Optional(str(256)),
  /** Files whose sha256 differs from collect-info's, and files it lists that are absent. */
  modified: Type.Array(PATH, { maxItems: 100_000 }),
  missing: Type.Array(PATH, { maxItems: 100_000 }),
}, { additionalProperties: false });
export type CharmInventory = Static<typeof CharmInventory>;

/** Files the collector passed over, by reason, with a few examples. */
export const SkipSummary = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  byReason: Type.Record(Type.String(), Type.Integer()),
  samples: Type.Array(Type.Object({ path: PATH, reason: str(512) }, { additionalProperties: false }), { maxItems: 100 }),
}, { additionalProperties: false });
export type SkipSummary = Static<typeof SkipSummary>;

/**
 * What an agent sends after collecting a unit. `files` are the hashed files outside dpkg's
 * ownership as [absolute path, md5 hex]: the controller matches them against its index of
 * known releases, now and whenever the index grows.
 */
export const AuditReport = Type.Object({
  unit: str(256),
  /** The request this collection answers (0 when the agent collected on its own). */
  request: Type.Integer({ minimum: 0 }),
  collectedAt: Type.Integer({ minimum: 0 }),
  packages: Type.Array(InventoryPackage, { maxItems: 100_000 }),
  changed: Type.Array(ChangedFile, { maxItems: 1_000_000 }),
  charm: CharmInventory,
  language: Type.Array(LanguagePackage, { maxItems: 200_000 }),
  /** The directories that were searched for embedded copies. */
  roots: Type.Array(PATH, { maxItems: 100 }),
  files: Type.Array(Type.Tuple([PATH, MD5]), { maxItems: MAX_FILES }),
  skipped: SkipSummary,
  /** Milliseconds the collection took on the machine. */
  ms: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type AuditReport = Static<typeof AuditReport>;

/** An installed package the fingerprint index lacks: the controller asks the agent for its files. */
export const WantedPackage = Type.Object({
  name: Type.String(),
  version: Type.String(),
  arch: Type.String(),
}, { additionalProperties: false });
export type WantedPackage = Static<typeof WantedPackage>;

/**
 * The controller's answer to a collection: how many embedded copies it found, and which of
 * the unit's installed packages it has not indexed yet (the agent sends their files next,
 * `POST /api/agent/audit/packages`), so every package version Sigil has seen on a machine
 * is in the index.
 */
export const AuditReportAnswer = Type.Object({
  ok: Type.Literal(true),
  embedded: Type.Integer({ minimum: 0 }),
  indexWanted: Type.Array(WantedPackage),
}, { additionalProperties: false });
export type AuditReportAnswer = Static<typeof AuditReportAnswer>;

/** Packages per request at most: the agent sends them in small batches. */
const PACKAGES_PER_REQUEST = 100;

/** The body of `POST /api/agent/audit/packages`: installed packages' files as dpkg lists them, [path relative to /, md5 hex]. */
export const AuditPackagesRequest = Type.Object({
  unit: str(256),
  packages: Type.Array(Type.Object({
    name: NAME,
    version: VERSION,
    files: Type.Array(RelativeFile, { maxItems: 200_000 }),
  }, { additionalProperties: false }), { minItems: 1, maxItems: PACKAGES_PER_REQUEST }),
}, { additionalProperties: false });
export type AuditPackagesRequest = Static<typeof AuditPackagesRequest>;

/**
 * A release of some software found copied into a directory, matched by file content:
 * `exact` holds every file of the release unchanged, `modified` holds files at the
 * release's paths whose content differs (listed), `subset` holds part of the release and
 * nothing changed (a vendored subset).
 */
export const EmbeddedCopy = Type.Object({
  name: Type.String(),
  version: Type.String(),
  /** The directory that holds the copy (it may have been renamed: matching is by content). */
  dir: Type.String(),
  matched: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
  /** matched / total, in percent, rounded down to one decimal. */
  share: Type.Number(),
  kind: Type.Union([Type.Literal('exact'), Type.Literal('modified'), Type.Literal('subset')]),
  /** Paths (under `dir`) of the release's files present with other content. */
  differing: Type.Array(Type.String()),
  /** How many of the release's files are absent. */
  absent: Type.Integer({ minimum: 0 }),
  /** Where the release came from: `dpkg`, `deb` or `upstream`. */
  source: Type.String(),
  /** A few matched files, as evidence. */
  evidence: Type.Array(Type.String()),
}, { additionalProperties: false });
export type EmbeddedCopy = Static<typeof EmbeddedCopy>;

/** One unit's inventory, as `sigil audit show` prints it. */
export const UnitInventory = Type.Object({
  unit: Type.String(),
  machine: Type.String(),
  collectedAt: Type.Integer({ minimum: 0 }),
  ms: Type.Integer({ minimum: 0 }),
  packages: Type.Array(InventoryPackage),
  changed: Type.Array(ChangedFile),
  charm: CharmInventory,
  language: Type.Array(LanguagePackage),
  embedded: Type.Array(EmbeddedCopy),
  roots: Type.Array(Type.String()),
  filesHashed: Type.Integer({ minimum: 0 }),
  skipped: SkipSummary,
}, { additionalProperties: false });
export type UnitInventory = Static<typeof UnitInventory>;

/** Per-unit counts shown by `status` and the GUI. */
export const AuditCounts = Type.Object({
  collectedAt: Type.Integer({ minimum: 0 }),
  packages: Type.Integer({ minimum: 0 }),
  modified: Type.Integer({ minimum: 0 }),
  embedded: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type AuditCounts = Static<typeof AuditCounts>;

/** One row of `GET /api/models/:model/inventory`: a unit's counts, and whether a collection is pending. */
export const AuditUnitSummary = Type.Object({
  unit: Type.String(),
  machine: Type.String(),
  counts: Type.Union([AuditCounts, Type.Null()]),
  pending: Type.Boolean(),
}, { additionalProperties: false });
export type AuditUnitSummary = Static<typeof AuditUnitSummary>;

/** A release in the fingerprint index. */
export const IndexedRelease = Type.Object({
  name: Type.String(),
  version: Type.String(),
  source: Type.String(),
  files: Type.Integer({ minimum: 0 }),
  added: Type.Number(),
}, { additionalProperties: false });
export type IndexedRelease = Static<typeof IndexedRelease>;

/** The body of `POST /api/inventory/index`: one release's files as [path relative to its top, md5 hex]. */
export const IndexAddRequest = Type.Object({
  name: NAME,
  version: VERSION,
  source: Type.Union([Type.Literal('upstream'), Type.Literal('deb')]),
  files: Type.Array(RelativeFile, { minItems: 1, maxItems: MAX_FILES }),
}, { additionalProperties: false });
export type IndexAddRequest = Static<typeof IndexAddRequest>;

/** The body of `POST /api/inventory/index/remove`: the release to drop from the index. */
export const IndexRemoveRequest = Type.Object({ name: NAME, version: VERSION }, { additionalProperties: false });
export type IndexRemoveRequest = Static<typeof IndexRemoveRequest>;

/** The body of `POST /api/models/:model/inventory/collect`: units (`app/0`), machines (`0`) or applications; none means every unit. */
export const CollectRequest = Type.Object({
  targets: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 }),
}, { additionalProperties: false });
export type CollectRequest = Static<typeof CollectRequest>;

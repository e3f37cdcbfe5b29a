import type { EmbeddedCopy } from '@sigil/api';

export interface ReleaseInfo { name: string; version: string; source: string }

/** md5 of the empty file: it says nothing about where a file came from. */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
/** A digest shipped by releases of more than this many different names is boilerplate (a licence text). */
const COMMON_NAMES = 3;

/**
 * The fingerprint index: every file of every known release as (md5, release, path), held
 * as typed arrays sorted by digest, so half a million hashes cost a few tens of MB and a
 * lookup is a binary search. Digests that many unrelated releases share (licence texts,
 * empty files) are marked common and count neither as a match nor in a release's total.
 */
export class FingerprintIndex {
  readonly releases: ReleaseInfo[] = [];
  /** Files of each release that are not common. */
  readonly totals: number[] = [];
  private digests = Buffer.alloc(0);
  private prefix = new Float64Array(0);
  private release = new Uint32Array(0);
  private common = new Uint8Array(0);
  private paths: string[] = [];
  private size = 0;

  /** Builds the index from entries given in any order; `release` indexes into `releases`. */
  static build(releases: ReleaseInfo[], entries: Iterable<{ release: number; md5: Buffer; path: string }>): FingerprintIndex {
    const ix = new FingerprintIndex();
    ix.releases.push(...releases);
    let cap = 1024;
    let dig = Buffer.alloc(cap * 16);
    let rel = new Uint32Array(cap);
    const paths: string[] = [];
    // Versions of one software share most paths: one string per distinct path.
    const intern = new Map<string, string>();
    let n = 0;
    for (const e of entries) {
      if (e.md5.length !== 16 || e.release >= releases.length) continue;
      if (n === cap) {
        cap *= 2;
        const d2 = Buffer.alloc(cap * 16);
        dig.copy(d2);
        dig = d2;
        const r2 = new Uint32Array(cap);
        r2.set(rel);
        rel = r2;
      }
      dig.set(e.md5, n * 16);
      rel[n] = e.release;
      let p = intern.get(e.path);
      if (p === undefined) intern.set(e.path, (p = e.path));
      paths.push(p);
      n++;
    }
    if (n >= 1 << 24) throw new RangeError(`the fingerprint index holds at most ${1 << 24} files`);
    // Sort by digest with a native numeric sort: each key is the digest's first 40 bits
    // above the entry's number (24 bits). Digests sharing 40 bits sort next to each other
    // in any order; lookups compare whole digests across such a run.
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (BigInt(dig.readUIntBE(i * 16, 5)) << 24n) | BigInt(i);
    keys.sort();
    ix.digests = Buffer.alloc(n * 16);
    ix.prefix = new Float64Array(n);
    ix.release = new Uint32Array(n);
    ix.paths = new Array<string>(n);
    for (let k = 0; k < n; k++) {
      const key = keys[k]!;
      const i = Number(key & 0xffffffn);
      ix.digests.set(dig.subarray(i * 16, i * 16 + 16), k * 16);
      ix.prefix[k] = Number(key >> 24n);
      ix.release[k] = rel[i]!;
      ix.paths[k] = paths[i]!;
    }
    ix.size = n;
    ix.common = new Uint8Array(n);
    const empty = Buffer.from(EMPTY_MD5, 'hex');
    for (let k = 0; k < n;) {
      // Runs of one digest. (Two digests sharing 40 bits may interleave; they then count as
      // separate runs, which can only make a digest look less common, never a match wrong.)
      let end = k + 1;
      while (end < n && ix.sameDigest(k, end)) end++;
      const names = new Set<string>();
      for (let j = k; j < end && names.size <= COMMON_NAMES; j++) names.add(releases[ix.release[j]!]!.name);
      if (names.size > COMMON_NAMES || ix.digests.compare(empty, 0, 16, k * 16, k * 16 + 16) === 0) ix.common.fill(1, k, end);
      k = end;
    }
    // Paths are unique within a release (the repository keeps one row per path).
    ix.totals.push(...releases.map(() => 0));
    for (let k = 0; k < n; k++) if (ix.common[k] === 0) ix.totals[ix.release[k]!]!++;
    return ix;
  }

  get entries(): number {
    return this.size;
  }

  private sameDigest(a: number, b: number): boolean {
    return this.digests.compare(this.digests, b * 16, b * 16 + 16, a * 16, a * 16 + 16) === 0;
  }

  /** The entries (release, path) whose file has this md5, leaving out common ones. */
  lookup(md5hex: string): { release: number; path: string; entry: number }[] {
    if (md5hex.length !== 32) return [];
    const d = Buffer.from(md5hex, 'hex');
    const p = d.readUIntBE(0, 5);
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prefix[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    const out: { release: number; path: string; entry: number }[] = [];
    for (let k = lo; k < this.size && this.prefix[k] === p; k++) {
      if (this.common[k] === 0 && d.compare(this.digests, k * 16, k * 16 + 16) === 0) out.push({ release: this.release[k]!, path: this.paths[k]!, entry: k });
    }
    return out;
  }

  /** The non-common files of one release, as paths. */
  filesOf(release: number): string[] {
    const out = new Set<string>();
    for (let k = 0; k < this.size; k++) if (this.release[k] === release && this.common[k] === 0) out.add(this.paths[k]!);
    return [...out];
  }
}

/** What a Debian package ships about itself rather than as its payload. */
const PACKAGING = /^usr\/share\/(doc|man|info|lintian|bug|menu)\//;

/**
 * A Debian package's files as a release: its payload (documentation and packaging metadata
 * left out, unless that is all it holds) relative to the deepest directory the payload
 * shares, so a copy of that directory placed anywhere is found (`usr/share/wordpress/…` is
 * indexed as `wp-includes/…`, found in `/srv/site/wp-includes/…`).
 */
export function packagePayload(files: readonly (readonly [string, string])[]): [string, string][] {
  const payload = files.filter(([p]) => !PACKAGING.test(p));
  const kept = payload.length > 0 ? payload : files;
  const dirs = kept.map(([p]) => p.split('/').slice(0, -1));
  let depth = 0;
  while (dirs.every((d) => d.length > depth && d[depth] === dirs[0]![depth])) depth++;
  return kept.map(([p, h]) => [p.split('/').slice(depth).join('/'), h]);
}

/** The directory a copy's top would be at, if `file` is the release's `relPath` (same depth: directories may be renamed). */
function rootFor(file: string, relPath: string): string | undefined {
  const parts = file.split('/');
  const depth = relPath.split('/').length;
  if (parts.length - depth < 1) return undefined;
  return parts.slice(0, parts.length - depth).join('/') || '/';
}

/** Fewer matched files than this (or under this share) is coincidence, not a copy. */
const MIN_FILES = 3;
const MIN_SHARE = 0.1;

/**
 * Finds copies of indexed releases among a unit's files ([absolute path, md5]). Each file
 * that matches a release's file proposes the directory the release's top would be at; a
 * (release, directory) pair gathering enough distinct files is a copy. For each directory
 * and software name only the best-matching version is kept (versions share most files).
 * Files of the release that are present at their path with other content are `differing`.
 */
export function findEmbedded(ix: FingerprintIndex, files: readonly (readonly [string, string])[]): EmbeddedCopy[] {
  const groups = new Map<string, { release: number; dir: string; entries: Set<string>; evidence: string[] }>();
  for (const [path, md5] of files) {
    for (const hit of ix.lookup(md5)) {
      const dir = rootFor(path, hit.path);
      if (dir === undefined) continue;
      const key = `${hit.release}\0${dir}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { release: hit.release, dir, entries: new Set(), evidence: [] }));
      if (!g.entries.has(hit.path)) {
        g.entries.add(hit.path);
        if (g.evidence.length < 5) g.evidence.push(path);
      }
    }
  }
  const best = new Map<string, { release: number; dir: string; entries: Set<string>; evidence: string[] }>();
  for (const g of groups.values()) {
    const total = ix.totals[g.release]!;
    if (total === 0 || g.entries.size < Math.min(MIN_FILES, total) || g.entries.size / total < MIN_SHARE) continue;
    const key = `${ix.releases[g.release]!.name}\0${g.dir}`;
    const cur = best.get(key);
    const score = (x: typeof g) => [x.entries.size, x.entries.size / ix.totals[x.release]!];
    if (!cur) best.set(key, g);
    else {
      const [a1, a2] = score(g);
      const [b1, b2] = score(cur);
      if (a1! > b1! || (a1 === b1 && a2! > b2!)) best.set(key, g);
    }
  }
  const present = new Set(files.map(([p]) => p));
  const out: EmbeddedCopy[] = [];
  for (const g of best.values()) {
    const r = ix.releases[g.release]!;
    const total = ix.totals[g.release]!;
    const differing: string[] = [];
    let absent = 0;
    for (const rel of ix.filesOf(g.release)) {
      if (g.entries.has(rel)) continue;
      if (present.has(g.dir === '/' ? '/' + rel : `${g.dir}/${rel}`)) differing.push(rel);
      else absent++;
    }
    differing.sort();
    out.push({
      name: r.name,
      version: r.version,
      dir: g.dir,
      matched: g.entries.size,
      total,
      share: Math.floor((g.entries.size / total) * 1000) / 10,
      kind: differing.length > 0 ? 'modified' : absent === 0 ? 'exact' : 'subset',
      differing,
      absent,
      source: r.source,
      evidence: g.evidence,
    });
  }
  return out.sort((a, b) => (a.dir + a.name < b.dir + b.name ? -1 : 1));
}

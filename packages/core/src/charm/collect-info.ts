import YAML from 'yaml';

/** The file `sigil collect` (and Codetree) writes into every collected charm directory. */
export const COLLECT_INFO_FILE = 'codetree-collect-info.yaml';

/**
 * Where a charm came from, as its `codetree-collect-info.yaml` records it, and whether the
 * files it was deployed with still match the hashes recorded at collection. Pure: the caller
 * gives the sha256 of every file it holds, so the same check serves an uploaded archive (the
 * controller) and a unit's charm directory (`sigil collect-info`).
 */
export interface CharmProvenance {
  /** The source without its options: `git+file:///srv/charms/django`. */
  source: string;
  /** `collect_url` as recorded, options and all. */
  url: string;
  /** The git commit (`;revno=`) the source was pinned to, if any. */
  commit?: string;
  /** The content digest (`;sha256=`) a file or tarball source was pinned to, if any. */
  digest?: string;
  /** `collect_date` as recorded (Codetree's `YYYY-MM-DD HH:MM:SS.ffffff`). */
  collected: string;
  /** How many files the collect-info lists. */
  files: number;
  matches: boolean;
  /** Recorded files whose content differs now. */
  modified: string[];
  /** Recorded files absent now. */
  missing: string[];
}

/**
 * Parses collect-info text and checks it against `hashes` (relative path to sha256 hex).
 * Anything that is not a collect-info (bad YAML, no `collect_url`, no `hashes` map) gives
 * undefined: no provenance, never an error.
 */
export function verifyCollectInfo(text: string, hashes: Readonly<Record<string, string>>): CharmProvenance | undefined {
  let info: unknown;
  try {
    info = YAML.parse(text);
  } catch {
    return undefined;
  }
  if (typeof info !== 'object' || info === null) return undefined;
  const { collect_url: url, collect_date: date, hashes: recorded } = info as Record<string, unknown>;
  if (typeof url !== 'string' || url === '' || typeof recorded !== 'object' || recorded === null || Array.isArray(recorded)) return undefined;
  const modified: string[] = [];
  const missing: string[] = [];
  const entries = Object.entries(recorded as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, hash] of entries) {
    const now = hashes[path];
    if (now === undefined) missing.push(path);
    else if (now !== String(hash)) modified.push(path);
  }
  const semi = url.lastIndexOf(';');
  const opts = new Map((semi === -1 ? '' : url.slice(semi + 1)).split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  return {
    source: semi === -1 ? url : url.slice(0, semi),
    url,
    ...(opts.has('revno') ? { commit: opts.get('revno')! } : {}),
    ...(opts.has('sha256') ? { digest: opts.get('sha256')! } : {}),
    collected: date instanceof Date ? date.toISOString() : String(date ?? ''),
    files: entries.length,
    matches: modified.length === 0 && missing.length === 0,
    modified,
    missing,
  };
}

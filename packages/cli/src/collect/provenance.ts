import { verifyCollectInfo } from '@sigil/core';

/**
 * Where a deployed charm came from, read from the collect-info file in the unit's charm
 * directory, and whether the files there still match the hashes recorded at collection.
 */
export interface Provenance {
  unit: string;
  /** False when the charm has no collect-info (it was not collected, or deployed from elsewhere). */
  collected: boolean;
  source?: string;
  collect_url?: string;
  /** The git commit (`;revno=`) or content digest (`;sha256=`) the source was pinned to. */
  commit?: string;
  digest?: string;
  collect_date?: string;
  files?: number;
  /** Files whose content differs from the recorded hash. */
  modified?: string[];
  /** Recorded files absent from the unit. */
  missing?: string[];
  matches?: boolean;
}

/** Separates the info file from the hash listing in the command's output. */
export const HASHES_MARK = '@@sigil-collect-hashes@@';

/** The command run on a unit (in its charm directory): the info file, then `sha256sum` of every file. */
export const PROVENANCE_COMMAND = `cat codetree-collect-info.yaml 2>/dev/null; echo '${HASHES_MARK}'; find -L . -type f -print0 2>/dev/null | xargs -0 -r sha256sum`;

/** Parses `sha256sum` lines (`<hex>  ./path`) into a map by relative path. */
export function parseSha256sum(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out[m[2]!.replace(/^\.\//, '')] = m[1]!;
  }
  return out;
}

/** Compares what a unit holds with its charm's collect-info; pure, for the output of PROVENANCE_COMMAND. */
export function provenanceOf(unit: string, output: string): Provenance {
  const at = output.indexOf(HASHES_MARK);
  if (at === -1) return { unit, collected: false };
  const p = verifyCollectInfo(output.slice(0, at), parseSha256sum(output.slice(at + HASHES_MARK.length)));
  if (!p) return { unit, collected: false };
  return {
    unit,
    collected: true,
    source: p.source,
    collect_url: p.url,
    ...(p.commit !== undefined ? { commit: p.commit } : {}),
    ...(p.digest !== undefined ? { digest: p.digest } : {}),
    collect_date: p.collected,
    files: p.files,
    modified: p.modified,
    missing: p.missing,
    matches: p.matches,
  };
}

export function renderProvenance(rows: Provenance[]): string {
  const out: string[] = [];
  for (const p of rows) {
    if (!p.collected) {
      out.push(`${p.unit}: no collect-info: this charm was not collected with \`sigil collect\` (or a spec's collect phase)`);
      continue;
    }
    out.push(`${p.unit}:`);
    out.push(`  source:     ${p.source}`);
    if (p.commit !== undefined) out.push(`  commit:     ${p.commit}`);
    if (p.digest !== undefined) out.push(`  sha256:     ${p.digest}`);
    out.push(`  collected:  ${p.collect_date}`);
    out.push(`  files:      ${p.files} recorded; ${p.matches ? 'all match' : `${p.modified!.length} modified, ${p.missing!.length} missing`}`);
    for (const f of p.modified!) out.push(`    modified: ${f}`);
    for (const f of p.missing!) out.push(`    missing:  ${f}`);
  }
  return out.join('\n');
}

import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import type { AuditReport, CharmInventory, LanguagePackage } from '@sigil/api';
import { collectDpkg } from './dpkg.ts';
import { isManifest, readManifest } from './language.ts';
import type { HashedFiles } from './hashed-files.ts';
import { DEFAULT_LIMITS, Skips, Slicer, hashFiles, hashTree, listFiles, plainMd5, type Md5, type WalkLimits } from './walk.ts';

/** Directories under a machine's root searched for embedded copies (files dpkg owns are left out). */
export const AUDIT_ROOTS = ['usr', 'opt', 'srv', 'var/www', 'home', 'root'];

export interface CollectTarget {
  unit: string;
  request: number;
  /** The machine's filesystem root: `/` in a container, the machine's directory for local-process. */
  root: string;
  /** The unit's own directory (its charm and state), searched too. */
  unitDir: string;
  charmDir: string;
  limits?: Partial<WalkLimits>;
  /** Digests already known (the image's, the machine's earlier collections'): only files whose stat changed are hashed. */
  md5?: Md5;
}

/** A collected report whose file list is held compactly; `reportBody` writes what is sent. */
export type CollectedUnit = Omit<AuditReport, 'files'> & { files: HashedFiles };

/**
 * Collects one unit's inventory: Debian packages and their changed files, the charm with its
 * collect-info provenance, language packages, and the md5 of every file outside dpkg's
 * ownership under the audit roots and the unit's directory. Nothing here throws for bad
 * content: unreadable files, links, loops and oversized trees become counted skips.
 */
export async function collectUnit(t: CollectTarget): Promise<CollectedUnit> {
  const started = Date.now();
  const limits = { ...DEFAULT_LIMITS, ...t.limits };
  const skips = new Skips();
  const md5 = t.md5 ?? plainMd5;
  const dpkg = await collectDpkg(t.root, skips, true, md5);
  const roots = [...AUDIT_ROOTS.map((r) => join(t.root, r)), t.unitDir];
  // The charm is reported on its own (with its provenance), not as an embedded copy.
  const charmPrefix = t.charmDir + '/';
  const manifests: string[] = [];
  const files = await hashTree(roots, limits, skips, (p) => dpkg.owned.has(p) || p.startsWith(charmPrefix), new Slicer(), (p) => {
    if (isManifest(p)) manifests.push(p);
  }, md5);
  dpkg.owned.clear();
  const language: LanguagePackage[] = [];
  for (const path of manifests) language.push(...(await readManifest(path, skips)));
  language.sort((a, b) => (a.ecosystem + a.name + a.path < b.ecosystem + b.name + b.path ? -1 : 1));
  return {
    unit: t.unit,
    request: t.request,
    collectedAt: Date.now(),
    packages: dpkg.packages,
    changed: dpkg.changed,
    charm: await charmInventory(t.charmDir, limits, skips),
    language,
    roots,
    files,
    skipped: skips.summary(),
    ms: Date.now() - started,
  };
}

/**
 * The JSON body of `POST /api/agent/audit` (an `AuditReport`), written in pieces from the
 * compact file list rather than through one `JSON.stringify` of every path and digest:
 * the pieces are sent as they are, never joined.
 */
export function reportBody(c: CollectedUnit): Buffer[] {
  const { files, ...rest } = c;
  const head = JSON.stringify(rest);
  const parts = [Buffer.from(`${head.slice(0, -1)},"files":`)];
  files.writeJson(parts);
  parts.push(Buffer.from('}'));
  return parts;
}

interface CollectInfo { collect_url?: unknown; collect_date?: unknown; hashes?: unknown }

/** The charm directory's files, compared with the sha256 hashes its Codetree collect-info recorded. */
export async function charmInventory(charmDir: string, limits: WalkLimits, skips: Skips): Promise<CharmInventory> {
  const listed = await listFiles([charmDir], { ...limits, maxFiles: Math.min(limits.maxFiles, 20_000) }, skips);
  let info: CollectInfo | null = null;
  try {
    info = YAML.parse(await readFile(join(charmDir, 'codetree-collect-info.yaml'), 'utf8')) as CollectInfo | null;
  } catch {
    info = null;
  }
  if (!info || typeof info.collect_url !== 'string' || typeof info.hashes !== 'object' || info.hashes === null) {
    return { files: listed.length, collected: false, modified: [], missing: [] };
  }
  const deployed = new Map((await hashFiles(listed, 'sha256', skips, limits.maxFileSize)).map(([p, h]) => [relative(charmDir, p), h]));
  const modified: string[] = [];
  const missing: string[] = [];
  for (const [path, hash] of Object.entries(info.hashes as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const now = deployed.get(path);
    if (now === undefined) missing.push(path);
    else if (now !== String(hash)) modified.push(path);
  }
  const url = info.collect_url;
  const semi = url.lastIndexOf(';');
  const opts = new URLSearchParams((semi === -1 ? '' : url.slice(semi + 1)).replaceAll(',', '&'));
  const commit = opts.get('revno') ?? opts.get('sha256');
  return {
    files: listed.length,
    collected: true,
    source: semi === -1 ? url : url.slice(0, semi),
    ...(commit ? { commit } : {}),
    ...(info.collect_date !== undefined ? { collectDate: String(info.collect_date) } : {}),
    modified,
    missing,
  };
}

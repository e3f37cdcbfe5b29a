import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { UnitInventory } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { normaliseName, softwareOf, type Finding } from './query.ts';
import { compareVersions } from './versions.ts';

/** The part of an OSV advisory (https://ossf.github.io/osv-schema/) the check reads. */
export interface OsvAdvisory {
  id: string;
  summary?: string;
  aliases?: string[];
  affected: {
    package?: { ecosystem?: string; name?: string; purl?: string };
    ranges?: { type?: string; events?: Record<string, string>[] }[];
    versions?: string[];
  }[];
}

export interface LoadedAdvisories {
  advisories: OsvAdvisory[];
  files: number;
  skipped: { source: string; reason: string }[];
}

const MAX_FILE = 32 * 1024 * 1024;
const MAX_FILES = 100_000;

function validate(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not a JSON object';
  const a = x as Record<string, unknown>;
  if (typeof a.id !== 'string' || a.id === '') return 'no "id"';
  if (!Array.isArray(a.affected)) return `${a.id}: no "affected" list`;
  for (const af of a.affected as unknown[]) {
    if (typeof af !== 'object' || af === null) return `${a.id}: an "affected" entry is not an object`;
    const p = (af as Record<string, unknown>).package;
    if (p !== undefined && (typeof p !== 'object' || p === null || typeof (p as Record<string, unknown>).name !== 'string')) return `${a.id}: an affected package has no name`;
    const ranges = (af as Record<string, unknown>).ranges;
    if (ranges !== undefined && !Array.isArray(ranges)) return `${a.id}: "ranges" is not a list`;
    for (const r of (ranges as unknown[] | undefined) ?? []) {
      const ev = (r as Record<string, unknown> | null)?.events;
      if (!Array.isArray(ev) || ev.some((e) => typeof e !== 'object' || e === null || Object.values(e as object).some((v) => typeof v !== 'string'))) return `${a.id}: a range's "events" are not a list of {introduced|fixed|last_affected: version}`;
    }
    const versions = (af as Record<string, unknown>).versions;
    if (versions !== undefined && (!Array.isArray(versions) || versions.some((v) => typeof v !== 'string'))) return `${a.id}: "versions" is not a list of strings`;
  }
  return undefined;
}

/**
 * Reads OSV advisories from a file or a directory (its `.json` files, one level of
 * subdirectories too). A file may hold one advisory, a list, or `{"vulns": [...]}` (the OSV
 * API's answer). What is not an advisory is skipped with its reason; nothing is fetched.
 */
export function loadAdvisories(path: string): LoadedAdvisories {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SigilError('not-found', `no advisory file or directory at ${path}`, 'pass an OSV JSON file or a directory of them (e.g. an export of a vulnerability database)');
  }
  const files: string[] = [];
  if (st.isDirectory()) {
    const walk = (dir: string, depth: number) => {
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (files.length >= MAX_FILES) return;
        if (e.isFile() && e.name.endsWith('.json')) files.push(join(dir, e.name));
        else if (e.isDirectory() && depth < 2) walk(join(dir, e.name), depth + 1);
      }
    };
    walk(path, 0);
  } else files.push(path);
  const out: LoadedAdvisories = { advisories: [], files: files.length, skipped: [] };
  for (const f of files) {
    let text: string;
    try {
      if (statSync(f).size > MAX_FILE) {
        out.skipped.push({ source: f, reason: 'larger than 32 MiB' });
        continue;
      }
      text = readFileSync(f, 'utf8');
    } catch (e) {
      out.skipped.push({ source: f, reason: `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      out.skipped.push({ source: f, reason: 'not JSON' });
      continue;
    }
    const list = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null && Array.isArray((doc as { vulns?: unknown }).vulns) ? (doc as { vulns: unknown[] }).vulns : [doc];
    list.forEach((a, i) => {
      const bad = validate(a);
      if (bad) out.skipped.push({ source: list.length > 1 ? `${f}[${i}]` : f, reason: `not an OSV advisory: ${bad}` });
      else out.advisories.push(a as OsvAdvisory);
    });
  }
  return out;
}

/**
 * Whether a version is affected by one OSV affected entry: listed in `versions`, or inside
 * a range walked as OSV describes it (introduced opens, fixed closes, last_affected closes
 * after itself). GIT ranges name commits, not versions: they are not evaluated.
 */
export function affectedBy(ecosystem: string, version: string, af: OsvAdvisory['affected'][number]): { affected: boolean; fixed?: string } {
  if (af.versions?.includes(version)) return { affected: true, ...fixedAfter(ecosystem, version, af) };
  for (const r of af.ranges ?? []) {
    if (r.type === 'GIT') continue;
    const events = (r.events ?? []).map((e) => Object.entries(e)[0]).filter((e): e is [string, string] => e !== undefined);
    const key = (v: string) => (v === '0' ? -Infinity : 0);
    events.sort((x, y) => (key(x[1]) === -Infinity ? -1 : key(y[1]) === -Infinity ? 1 : compareVersions(ecosystem, x[1], y[1])));
    let affected = false;
    for (const [kind, v] of events) {
      const c = v === '0' ? 1 : compareVersions(ecosystem, version, v);
      if (kind === 'introduced' && c >= 0) affected = true;
      else if (kind === 'fixed' && c >= 0) affected = false;
      else if (kind === 'last_affected' && c > 0) affected = false;
    }
    if (affected) return { affected: true, ...fixedAfter(ecosystem, version, af) };
  }
  return { affected: false };
}

function fixedAfter(ecosystem: string, version: string, af: OsvAdvisory['affected'][number]): { fixed?: string } {
  const fixes = (af.ranges ?? []).flatMap((r) => (r.events ?? []).map((e) => e.fixed).filter((x): x is string => typeof x === 'string'));
  const later = fixes.filter((f) => compareVersions(ecosystem, f, version) > 0).sort((a, b) => compareVersions(ecosystem, a, b));
  return later[0] !== undefined ? { fixed: later[0] } : {};
}

export interface AdvisoryHit extends Finding {
  advisory: string;
  summary: string;
  fixed: string;
}

const LANGUAGE = new Set(['npm', 'PyPI', 'Packagist', 'Go', 'RubyGems']);

/**
 * The units an advisory reaches, with the evidence: a Debian package (by binary or source
 * name), a language package of the same ecosystem, or an embedded copy of that name (any
 * ecosystem: a vendored copy has no ecosystem of its own).
 */
export function checkAdvisories(advisories: OsvAdvisory[], inventories: UnitInventory[]): AdvisoryHit[] {
  const software = inventories.flatMap(softwareOf);
  const hits: AdvisoryHit[] = [];
  for (const a of advisories) {
    for (const af of a.affected) {
      const name = af.package?.name;
      if (!name) continue;
      const eco = (af.package?.ecosystem ?? '').split(':')[0]!;
      for (const f of software) {
        const sameKind = f.kind === 'embedded' || (f.kind === 'deb' ? eco === 'Debian' : LANGUAGE.has(f.kind) && f.kind === eco);
        if (!sameKind) continue;
        const names = [f.name, ...(f.kind === 'deb' && f.evidence.includes('source ') ? [f.evidence.slice(f.evidence.indexOf('source ') + 7)] : [])];
        if (!names.some((n) => normaliseName(f.ecosystem || eco, n) === normaliseName(f.ecosystem || eco, name))) continue;
        const r = affectedBy(f.kind === 'deb' ? 'Debian' : f.ecosystem || eco, f.version, af);
        if (!r.affected) continue;
        if (hits.some((h) => h.advisory === a.id && h.unit === f.unit && h.kind === f.kind && h.name === f.name && h.evidence === f.evidence)) continue;
        hits.push({ ...f, advisory: a.id, summary: a.summary ?? '', fixed: r.fixed ?? '' });
      }
    }
  }
  return hits.sort((x, y) => (x.advisory + x.unit < y.advisory + y.unit ? -1 : x.advisory + x.unit > y.advisory + y.unit ? 1 : 0));
}

import type { EmbeddedCopy, UnitInventory } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { compareVersions } from './versions.ts';

export type Op = '<' | '<=' | '=' | '>=' | '>';

export interface Query { name: string; op?: Op; version?: string }

/** `NAME`, `NAME<=0.41`, `NAME<0.41`, `NAME=1.2` …: what `sigil audit find` takes. */
export function parseQuery(text: string): Query {
  const m = /^([A-Za-z0-9@][A-Za-z0-9@._+/~-]*)(?:(<=|>=|<|>|==|=)([A-Za-z0-9][A-Za-z0-9._+~:-]*))?$/.exec(text.trim());
  if (!m) throw new SigilError('bad-request', `cannot read "${text}" as NAME or NAME<OP>VERSION`, 'e.g. `sigil audit find libfoo`, `sigil audit find "libfoo<0.41"`, `sigil audit find "openssl<=3.0.11"`');
  return { name: m[1]!, ...(m[2] ? { op: (m[2] === '==' ? '=' : m[2]) as Op, version: m[3]! } : {}) };
}

export interface Finding {
  unit: string;
  kind: 'deb' | 'embedded' | 'npm' | 'PyPI' | 'Packagist' | 'Go' | 'RubyGems';
  name: string;
  version: string;
  /** Where: the package's architecture, the embedded copy's directory and share, the manifest. */
  evidence: string;
  ecosystem: string;
  copy?: EmbeddedCopy;
}

export function normaliseName(ecosystem: string, name: string): string {
  const n = name.toLowerCase();
  return ecosystem === 'PyPI' ? n.replace(/[-_.]+/g, '-') : n;
}

/** Every piece of software in the inventories, as one list (packages, language packages, embedded copies). */
export function softwareOf(inv: UnitInventory): Finding[] {
  const out: Finding[] = [];
  for (const p of inv.packages) out.push({ unit: inv.unit, kind: 'deb', name: p.name, version: p.version, evidence: `dpkg ${p.arch}${p.source && p.source !== p.name ? `, source ${p.source}` : ''}`, ecosystem: 'Debian' });
  for (const l of inv.language) out.push({ unit: inv.unit, kind: l.ecosystem, name: l.name, version: l.version, evidence: l.path, ecosystem: l.ecosystem });
  for (const e of inv.embedded) out.push({ unit: inv.unit, kind: 'embedded', name: e.name, version: e.version, evidence: describeCopy(e), ecosystem: '', copy: e });
  return out;
}

export function describeCopy(e: EmbeddedCopy): string {
  const kind = e.kind === 'exact' ? 'exact copy' : e.kind === 'modified' ? `modified copy: ${e.differing.length} files differ` : 'vendored subset';
  return `${e.dir} (${e.matched}/${e.total} files, ${Math.floor(e.share)} %, ${kind})`;
}

export function matches(q: Query, f: Finding): boolean {
  const names = [f.name, ...(f.kind === 'deb' && f.evidence.includes('source ') ? [f.evidence.slice(f.evidence.indexOf('source ') + 7)] : [])];
  if (!names.some((n) => normaliseName(f.ecosystem, n) === normaliseName(f.ecosystem, q.name))) return false;
  if (!q.op || !q.version) return true;
  const c = compareVersions(f.ecosystem, f.version, q.version);
  return q.op === '<' ? c < 0 : q.op === '<=' ? c <= 0 : q.op === '=' ? c === 0 : q.op === '>=' ? c >= 0 : c > 0;
}

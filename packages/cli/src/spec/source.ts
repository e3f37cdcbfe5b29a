import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SigilError } from '@sigil/core';
import { collectAll } from '../collect/collect.ts';
import { sourceKind, type Directive } from '../collect/config.ts';

/**
 * Where a spec comes from: a directory (used in place), a git URL (`git+https://…`,
 * `git+file://…`, optionally `@ref`) or a tarball URL, fetched into the workspace through
 * the same checked collection as `sigil collect` — so a fetched spec carries its own
 * collect-info, and nothing from outside reaches the disk unchecked.
 */
export interface SpecSource {
  /** The spec directory to plan from. */
  dir: string;
  /** What was fetched: `git+file:///r;revno=<commit>`, or the directory. */
  pinned: string;
}

/** Splits `git+https://host/repo@ref` into URL and ref; an `@` in the authority (git@host) is not a ref. */
export function splitRef(url: string): { url: string; ref?: string } {
  const m = /^([a-z+]+:\/\/[^/]*)(\/.*)$/.exec(url);
  if (!m) return { url };
  const at = m[2]!.lastIndexOf('@');
  if (at === -1) return { url };
  return { url: m[1]! + m[2]!.slice(0, at), ref: m[2]!.slice(at + 1) };
}

export function isRemoteSpec(spec: string): boolean {
  return /^(git(\+[a-z]+)?|https?):\/\//.test(spec);
}

export async function fetchSpec(spec: string, workspace: string, say: (line: string) => void): Promise<SpecSource> {
  if (!isRemoteSpec(spec)) {
    const dir = resolve(spec);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new SigilError('not-found', `spec "${spec}" is not a directory`, 'give a spec directory, a git URL (git+https://…, git+file://…, with an optional @ref) or a tarball URL');
    }
    return { dir, pinned: dir };
  }
  const { url, ref } = splitRef(spec);
  const kind = sourceKind(url);
  if (kind !== 'git' && kind !== 'http') throw new SigilError('bad-request', `spec "${spec}" is not a git or tarball URL`, 'e.g. git+file:///srv/specs/conference.git@main or https://host/spec.tar.gz');
  if (kind === 'http' && ref !== undefined) throw new SigilError('bad-request', `spec "${spec}": @ref applies to git URLs only`, 'a tarball is fetched as it is');
  if (kind === 'http' && !/\.(tar|tar\.gz|tgz)$/i.test(new URL(url).pathname)) throw new SigilError('bad-request', `spec "${spec}" is not a tarball (.tar, .tar.gz, .tgz)`, 'serve the spec as a tarball, or give its git URL');
  mkdirSync(workspace, { recursive: true });
  const d: Directive = { dest: 'spec', url, kind, options: { ...(ref !== undefined ? { ref } : {}), overwrite: 'true' }, file: 'spec', line: 1 };
  const [r] = await collectAll([d], workspace, { baseDir: workspace });
  if (!r || r.status !== 'collected') {
    const e = r?.error ?? new SigilError('internal', `spec ${spec} was not fetched`);
    throw new SigilError(e.code, e.message.replace(/^spec:1: /, 'cannot fetch the spec: '), e.hint);
  }
  say(`Fetched spec ${url}${r.commit ? ` at ${r.commit.slice(0, 12)}` : ''}`);
  return { dir: join(workspace, 'spec'), pinned: r.pinned ?? url };
}

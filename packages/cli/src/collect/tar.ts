import { gunzipSync } from 'node:zlib';
import { SigilError, checkArchiveEntries, checkArchivePath } from '@sigil/core';

/**
 * A small reader for the tarballs specs and charms come in (ustar, GNU long names, pax path
 * headers; gzip or not). It reads the whole archive into memory and returns its entries, so
 * they can be checked — every name inside the root, links pointing inside it, no devices or
 * hard links — before anything is written to disk.
 */

export type TarEntry =
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; link: string };

const BLOCK = 512;

function text(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? s.length : nul).toString('utf8');
}

function octal(b: Buffer, off: number, len: number): number {
  const s = text(b, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let s = data.toString('utf8');
  while (s.length > 0) {
    const sp = s.indexOf(' ');
    const len = Number(s.slice(0, sp));
    if (sp <= 0 || !Number.isInteger(len) || len <= sp) break;
    const rec = s.slice(sp + 1, len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    s = s.slice(len);
  }
  return out;
}

/** Parses a (gzipped) tar archive; `name` is how errors refer to it. Throws on anything but files, directories and symlinks. */
export function readTar(input: Buffer, name: string): TarEntry[] {
  const bad = (why: string) => new SigilError('bad-request', `archive ${name}: ${why}`, 'give a .tar, .tar.gz or .tgz archive of regular files, directories and relative symlinks');
  let b: Buffer;
  try {
    b = input[0] === 0x1f && input[1] === 0x8b ? gunzipSync(input) : input;
  } catch (e) {
    throw bad(`cannot be decompressed (${(e as Error).message})`);
  }
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + BLOCK <= b.length) {
    const h = b.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const magic = text(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(h, 345, 155) : '';
    const body = b.subarray(off + BLOCK, off + BLOCK + size);
    if (body.length < size) throw bad('is truncated');
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') { longName = text(body, 0, body.length); continue; }
    if (type === 'K') { longLink = text(body, 0, body.length); continue; }
    if (type === 'x') { pax = paxRecords(body); continue; }
    if (type === 'g') continue;
    let path = pax.path ?? longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    const link = pax.linkpath ?? longLink ?? text(h, 157, 100);
    longName = longLink = undefined;
    pax = {};
    path = path.replace(/^(\.\/)+/, '');
    const mode = octal(h, 100, 8) & 0o777;
    if (type === '5') {
      path = path.replace(/\/+$/, '');
      if (path !== '' && path !== '.') out.push({ type: 'dir', path, mode });
    } else if (type === '0' || type === '7') out.push({ type: 'file', path, mode, data: Buffer.from(body) });
    else if (type === '2') out.push({ type: 'symlink', path, link });
    else throw bad(`entry ${JSON.stringify(path)} is a ${type === '1' ? 'hard link' : type === '3' || type === '4' ? 'device' : type === '6' ? 'FIFO' : `type ${JSON.stringify(type)} entry`}, which is not collected`);
  }
  try {
    // Directories are checked by name; files and links also for duplicates and for lying beneath a file or link.
    for (const e of out) if (e.type === 'dir') checkArchivePath(e.path);
    checkArchiveEntries(out.flatMap((e) => (e.type === 'symlink' ? [{ path: e.path, link: e.link }] : e.type === 'file' ? [{ path: e.path }] : [])));
  } catch (e) {
    if (e instanceof SigilError) throw bad(e.message.replace(/^charm entry /, 'entry ').replace(/the charm/g, 'the archive'));
    throw e;
  }
  return out;
}

/** When every entry sits under one top-level directory (`app-1.0/…`, as release tarballs do), the entries without it. */
export function stripSingleTop(entries: TarEntry[]): TarEntry[] {
  const tops = new Set(entries.map((e) => e.path.split('/')[0]!));
  if (tops.size !== 1) return entries;
  const top = [...tops][0]!;
  if (!entries.some((e) => e.path === top && e.type === 'dir') && !entries.every((e) => e.path.startsWith(`${top}/`))) return entries;
  return entries.filter((e) => e.path !== top).map((e) => ({ ...e, path: e.path.slice(top.length + 1) }));
}

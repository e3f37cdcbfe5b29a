/**
 * The controller backup archive: a gzipped POSIX tar (readable with `tar tzf`) whose first
 * entry is `manifest.json`, naming every other entry with its size and SHA-256. Writing and
 * reading are pure (Buffers in, Buffers out); reading checks everything an archive from
 * outside could get wrong before any of it reaches a disk: only regular files, only the
 * names a backup holds (no `..`, no absolute paths, no links), sizes bounded, each file's
 * checksum and the manifest's list matching the archive exactly.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SigilError } from './errors.ts';

export const BACKUP_FORMAT = 'sigil-controller-backup/1';

export interface BackupFile {
  path: string;
  mode: number;
  data: Buffer;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  controller: string;
  provider: string;
  created: string;
  /** The store's last change revision when the snapshot was taken. */
  revision: number;
  files: { path: string; size: number; sha256: string; mode: number }[];
}

/** Every path a backup may hold, and nothing else. */
const ALLOWED = /^(state\.db|state\.pgdump|store-password|controller\.json|secrets\.key|backup-store\.password|tls\/(ca\.crt|ca\.key|server\.crt|server\.key)|ssh\/(id_ed25519|id_ed25519\.pub))$/;
const REQUIRED = ['controller.json', 'tls/ca.crt', 'tls/ca.key', 'tls/server.crt', 'tls/server.key'];
/** The database: SQLite's file, or a PostgreSQL store's dump. */
const DATABASE = ['state.db', 'state.pgdump'];
/** A backup larger than this (unpacked) is refused rather than read into memory. */
export const MAX_BACKUP_BYTES = 2 * 1024 ** 3;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function header(name: string, size: number, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, 'utf8');
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  h.write(oct(mode & 0o7777, 8), 100);
  h.write(oct(0, 8), 108);
  h.write(oct(0, 8), 116);
  h.write(oct(size, 12), 124);
  h.write(oct(Math.floor(mtime / 1000), 12), 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** Packs the files behind a manifest that lists them with their checksums. */
export function packBackup(meta: Omit<BackupManifest, 'files' | 'format'>, files: BackupFile[]): { archive: Buffer; manifest: BackupManifest } {
  for (const f of files) if (!ALLOWED.test(f.path)) throw new SigilError('internal', `backup cannot hold ${f.path}`);
  const manifest: BackupManifest = { format: BACKUP_FORMAT, ...meta, files: files.map((f) => ({ path: f.path, size: f.data.length, sha256: sha256(f.data), mode: f.mode })) };
  const now = Date.parse(meta.created) || Date.now();
  const parts: Buffer[] = [];
  const add = (name: string, data: Buffer, mode: number) => {
    parts.push(header(name, data.length, mode, now), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  };
  add('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), 0o600);
  for (const f of files) add(f.path, f.data, f.mode);
  parts.push(Buffer.alloc(1024));
  return { archive: gzipSync(Buffer.concat(parts)), manifest };
}

const bad = (what: string) => new SigilError('bad-request', `not a valid Sigil controller backup: ${what}`, 'use a file written by `sigil create-backup`, copied whole (compare its size and `sha256sum` with the original)');

/** Reads and checks a backup archive; nothing in it is trusted until this returns. */
export function unpackBackup(archive: Buffer): { manifest: BackupManifest; files: BackupFile[] } {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_BACKUP_BYTES });
  } catch (e) {
    throw bad(`it is not a gzip file within ${MAX_BACKUP_BYTES} bytes (${(e as Error).message})`);
  }
  const entries: BackupFile[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (parseInt(str(148, 8).trim(), 8) !== sum) throw bad(`header checksum wrong at byte ${off}`);
    const prefix = str(345, 155);
    const name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100);
    const type = str(156, 1) || '0';
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const mode = parseInt(str(100, 8).trim() || '600', 8);
    if (type !== '0') throw bad(`entry "${shown(name)}" is not a regular file (type ${shown(type)}); links and devices are refused`);
    if (name !== 'manifest.json' && !ALLOWED.test(name)) throw bad(`unexpected entry "${shown(name)}"`);
    if (!Number.isSafeInteger(size) || size < 0 || off + 512 + size > tar.length) throw bad(`entry "${shown(name)}" is truncated`);
    if (entries.some((e) => e.path === name)) throw bad(`entry "${shown(name)}" appears twice`);
    entries.push({ path: name, mode, data: tar.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  const first = entries.shift();
  if (first?.path !== 'manifest.json') throw bad('it does not start with manifest.json');
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(first.data.toString('utf8')) as BackupManifest;
  } catch {
    throw bad('manifest.json is not JSON');
  }
  if (manifest.format !== BACKUP_FORMAT) throw bad(`format "${shown(String(manifest.format))}" is not ${BACKUP_FORMAT}`);
  if (!Array.isArray(manifest.files) || typeof manifest.controller !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(manifest.controller)) throw bad('manifest.json lacks its files or a valid controller name');
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const e of entries) {
    const m = listed.get(e.path);
    if (!m) throw bad(`"${e.path}" is not in the manifest`);
    if (m.size !== e.data.length || m.sha256 !== sha256(e.data)) throw bad(`checksum of "${e.path}" does not match the manifest (the file was changed or damaged)`);
    e.mode = m.mode & 0o744;
    listed.delete(e.path);
  }
  if (listed.size > 0) throw bad(`missing ${[...listed.keys()].join(', ')}`);
  if (!entries.some((e) => DATABASE.includes(e.path))) throw bad('it holds no state.db');
  for (const r of REQUIRED) if (!entries.some((e) => e.path === r)) throw bad(`it holds no ${r}`);
  return { manifest, files: entries };
}

function shown(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.slice(0, 120).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

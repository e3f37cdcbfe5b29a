import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { packBackup, unpackBackup } from './backup-archive.ts';
import { SigilError } from './errors.ts';

const meta = { controller: 'prod', provider: 'lxc', created: '2026-12-05T22:00:00.000Z', revision: 42 };
const files = [
  { path: 'state.db', mode: 0o600, data: Buffer.from('SQLite format 3\0 pretend pages') },
  { path: 'controller.json', mode: 0o600, data: Buffer.from('{"name":"prod","host":"127.0.0.1","port":1,"provider":"lxc"}') },
  { path: 'tls/ca.crt', mode: 0o644, data: Buffer.from('ca cert') },
  { path: 'tls/ca.key', mode: 0o600, data: Buffer.from('ca key') },
  { path: 'tls/server.crt', mode: 0o644, data: Buffer.from('server cert') },
  { path: 'tls/server.key', mode: 0o600, data: Buffer.from('server key') },
  { path: 'secrets.key', mode: 0o600, data: Buffer.from('a'.repeat(64)) },
];

function refused(archive: Buffer): string {
  try {
    unpackBackup(archive);
  } catch (e) {
    expect(e).toBeInstanceOf(SigilError);
    expect((e as SigilError).hint).toContain('sigil create-backup');
    return (e as SigilError).message;
  }
  throw new Error('the archive was accepted');
}

/** A tar entry built by hand, for archives sigil would never write. */
function entry(name: string, data: Buffer, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000600\0', 100);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

describe('controller backup archive', () => {
  it('round-trips every file with the manifest, and system tar reads it', () => {
    const { archive, manifest } = packBackup(meta, files);
    expect(manifest.files.map((f) => f.path)).toEqual(files.map((f) => f.path));
    const back = unpackBackup(archive);
    expect(back.manifest).toEqual(manifest);
    expect(back.files.map((f) => [f.path, f.data.toString(), f.mode])).toEqual(files.map((f) => [f.path, f.data.toString(), f.mode]));
    const dir = mkdtempSync(join(tmpdir(), 'sigil-archive-'));
    try {
      writeFileSync(join(dir, 'b.tar.gz'), archive);
      expect(execFileSync('tar', ['-tzf', join(dir, 'b.tar.gz')], { encoding: 'utf8' }).trim().split('\n')).toEqual(['manifest.json', ...files.map((f) => f.path)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a changed file, a missing one, and one not in the manifest', () => {
    const { archive } = packBackup(meta, files);
    const tar = gunzipSync(archive);
    const at = tar.indexOf('ca key');
    const changed = Buffer.from(tar);
    changed.write('XX', at);
    expect(refused(gzipSync(changed))).toBe('not a valid Sigil controller backup: checksum of "tls/ca.key" does not match the manifest (the file was changed or damaged)');

    const { archive: fewer } = packBackup(meta, files.filter((f) => f.path !== 'tls/ca.key'));
    expect(refused(fewer)).toBe('not a valid Sigil controller backup: it holds no tls/ca.key');
  });

  it('refuses paths outside the backup, links, and what is not gzip', () => {
    const { archive } = packBackup(meta, files);
    const tar = gunzipSync(archive);
    const end = tar.length - 1024;
    expect(refused(gzipSync(Buffer.concat([tar.subarray(0, end), entry('../../etc/cron.d/x', Buffer.from('* * * * * root sh')), Buffer.alloc(1024)])))).toBe('not a valid Sigil controller backup: unexpected entry "../../etc/cron.d/x"');
    expect(refused(gzipSync(Buffer.concat([tar.subarray(0, end), entry('/etc/passwd', Buffer.from('x')), Buffer.alloc(1024)])))).toBe('not a valid Sigil controller backup: unexpected entry "/etc/passwd"');
    expect(refused(gzipSync(Buffer.concat([entry('secrets.key', Buffer.alloc(0), '2'), Buffer.alloc(1024)])))).toBe('not a valid Sigil controller backup: entry "secrets.key" is not a regular file (type 2); links and devices are refused');
    expect(refused(Buffer.from('not gzip at all'))).toMatch(/^not a valid Sigil controller backup: it is not a gzip file/);
    expect(refused(gzipSync(Buffer.concat([entry('state.db', Buffer.from('x')), Buffer.alloc(1024)])))).toBe('not a valid Sigil controller backup: it does not start with manifest.json');
  });
});

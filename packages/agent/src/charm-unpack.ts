import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CharmArchive } from '@sigil/api';
import type { AgentApi } from './api-client.ts';
import { SigilError, checkArchiveEntries, checkArchiveLink, checkArchivePath, quoteArchivePath } from '@sigil/core';

/**
 * Makes `charmDir` hold the charm whose archive hash is `hash`, fetching and unpacking it
 * only when the marker in `unitDir` says what is on disk differs.
 */
export async function ensureCharm(api: Pick<AgentApi, 'call'>, unitDir: string, charmDir: string, hash: string): Promise<void> {
  const marker = join(unitDir, 'charm.hash');
  const have = await readFile(marker, 'utf8').catch(() => '');
  if (have === hash) return;
  // The route answers the archive's JSON text as the controller stores it (bytes in the contract).
  const archive = await api.call('GET /api/agent/charms/:hash', { params: { hash } });
  await unpackCharm(archive, charmDir);
  await writeFile(marker, hash);
}

/**
 * Replaces `dir` with the archive's contents. The agent runs as root and the archive comes
 * over the network, so: every name and link target is checked (core's checkArchiveEntries)
 * before anything touches the disk; the charm is written into a fresh staging directory
 * beside `dir`, directories and files first and links last, each file created new without
 * following a link (O_EXCL | O_NOFOLLOW) and each directory checked to be a real one; only a
 * complete unpack replaces `dir`. A refused archive leaves `dir` as it was.
 */
export async function unpackCharm(archive: CharmArchive, dir: string): Promise<void> {
  checkArchiveEntries(archive.files);
  await mkdir(dirname(dir), { recursive: true });
  const staging = `${dir}.unpacking-${randomBytes(6).toString('hex')}`;
  await mkdir(staging, { mode: 0o755 });
  try {
    const made = new Set<string>();
    const files = archive.files.filter((f) => f.link === undefined);
    const links = archive.files.filter((f) => f.link !== undefined);
    for (const f of files) {
      const parts = checkArchivePath(f.path);
      await makeDirs(staging, parts.slice(0, -1), made);
      await writeNew(join(staging, ...parts), Buffer.from(f.data, 'base64'), f.mode & 0o777);
    }
    for (const l of links) {
      const parts = checkArchivePath(l.path);
      const target = l.link ?? '';
      checkArchiveLink(l.path, target);
      await makeDirs(staging, parts.slice(0, -1), made);
      await symlink(target, join(staging, ...parts));
    }
    // rm removes a link in place of `dir` without following it, and never follows links inside.
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/** Creates each directory of `parts` under `root` in turn, refusing anything on the way that is not a real directory. */
async function makeDirs(root: string, parts: string[], made: Set<string>): Promise<void> {
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    if (made.has(at)) continue;
    try {
      await mkdir(at, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await lstat(at);
      if (!st.isDirectory()) {
        throw new SigilError('invalid-charm', `charm directory ${quoteArchivePath(at.slice(root.length + 1))} is already a ${st.isSymbolicLink() ? 'symlink' : 'file'}`, 'the charm archive is inconsistent; deploy the charm again');
      }
    }
    made.add(at);
  }
}

/** Writes a file that must not exist yet; a link (or anything else) in its place is an error, never followed. */
async function writeNew(path: string, data: Buffer, mode: number): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await fh.writeFile(data);
    // The umask must not change what the charm author set (hooks must stay executable).
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
}

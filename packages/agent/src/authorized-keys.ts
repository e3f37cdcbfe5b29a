import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const BEGIN_MARKER = '# BEGIN sigil model keys (managed by the machine agent: use `sigil add-ssh-key` / `sigil remove-ssh-key`)';
export const END_MARKER = '# END sigil model keys';

/**
 * authorized_keys with the model's keys in one managed block, everything outside it (the
 * controller's key written at provisioning, lines an operator added by hand) kept as it
 * was. An empty key list removes the block. A block whose end marker was deleted by hand
 * extends to the end of the file, so a stale key can never survive outside the block.
 */
export function renderAuthorizedKeys(existing: string, keys: readonly string[]): string {
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n');
  const kept: string[] = [];
  let inBlock = false;
  let at = -1;
  for (const l of lines) {
    if (l === BEGIN_MARKER) {
      inBlock = true;
      if (at < 0) at = kept.length;
      continue;
    }
    if (inBlock) {
      if (l === END_MARKER) inBlock = false;
      continue;
    }
    kept.push(l);
  }
  const block = keys.length === 0 ? [] : [BEGIN_MARKER, ...keys, END_MARKER];
  if (at < 0) at = kept.length;
  const out = [...kept.slice(0, at), ...block, ...kept.slice(at)];
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/**
 * Brings the file at `path` in step with `keys`; returns whether it changed. The file is
 * replaced atomically (a new file renamed over it, mode 0600), so sshd never reads half a
 * file, and it is not touched at all when nothing changed.
 */
export async function applyAuthorizedKeys(path: string, keys: readonly string[]): Promise<boolean> {
  const before = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const after = renderAuthorizedKeys(before, keys);
  if (after === before) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeAtomically(path, after);
  return true;
}

/** Writes a file through a temporary sibling and a rename: readers see the old or the new file, never a mix. */
export async function writeAtomically(path: string, content: string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode, flush: true });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

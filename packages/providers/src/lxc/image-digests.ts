import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DIGEST_LIST_HEADER, IMAGE_DIGESTS_PATH, digestLine } from '@sigil/core';

/** Parts of the image that hold no files a machine's inventory hashes, or that change on every machine. */
const LEFT_OUT = new Set(['proc', 'sys', 'dev', 'run', 'tmp', 'var/cache', 'var/log', 'var/lib/apt', 'var/lib/sigil-image']);

/**
 * Writes the base image's digest list (`IMAGE_DIGESTS_PATH` in its rootfs) when it has none:
 * the md5, size and times of each of its regular files, hashed once per host. Machines
 * overlay the image, so each file they did not change shows them the same stat, and their
 * agents' inventories take its digest from the list instead of reading it (DigestCache).
 */
export async function ensureImageDigests(rootfs: string): Promise<{ files: number; ms: number } | undefined> {
  const file = join(rootfs, IMAGE_DIGESTS_PATH);
  if (await stat(file).then(() => true, () => false)) return undefined;
  const started = Date.now();
  const parts = [DIGEST_LIST_HEADER + '\n'];
  let files = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(rootfs, rel), { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (LEFT_OUT.has(child) || child.includes('\n')) continue;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) {
        const path = join(rootfs, child);
        const st = await lstat(path);
        const md5 = createHash('md5').update(await readFile(path)).digest('hex');
        parts.push(digestLine(`/${child}`, { md5, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }));
        files++;
      }
    }
  };
  await walk('');
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(`${file}.tmp-${process.pid}`, parts.join(''), { mode: 0o644 });
  await rename(`${file}.tmp-${process.pid}`, file);
  return { files, ms: Date.now() - started };
}

import { copyFile, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from '../process.ts';
import { CLEAN_ENV, run } from './run.ts';
import { AGENT_DATA_DIR, mkdirLike } from './machine-files.ts';

/**
 * Lists fetched less than this long ago are fresh: a new machine starts with them instead of
 * running `apt-get update` itself (Ansible's `cache_valid_time: 3600` in the peer benchmark).
 */
export const LISTS_MAX_AGE_MS = 60 * 60_000;

/** What `fresh()` gives a new machine: the list files that differ from the image's. */
export interface FreshLists {
  dir: string;
  files: string[];
  fetchedAt: number;
}

/**
 * Fresh apt lists for new machines, fetched once per host rather than once per machine.
 * `apt-get update` costs a machine about two CPU-seconds even when nothing changed (InRelease
 * checks, the index parsed again); four machines booting together on two cores spent 4-5 s
 * of a 14 s first deploy on it. The host's apt fetches the image's sources through the apt
 * cache into `dir`, which is renamed into place whole; a machine created while the lists are
 * fresh gets the files that differ from the image's in its upper layer, and skips its own
 * refresh. Stale or missing lists start a fetch in the background and the machine refreshes
 * itself, as before.
 */
export class AptLists {
  private fetching: Promise<void> | undefined;

  constructor(private readonly o: { dir: string; rootfs: string; proxyUrl: () => string; log?: (msg: string, fields: Record<string, unknown>) => void }) {}

  /** The fresh lists, or undefined (and a fetch started) when there are none. */
  async fresh(now = Date.now()): Promise<FreshLists | undefined> {
    const manifest = await readFile(join(this.o.dir, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as { fetchedAt: number; files: string[] }, () => undefined);
    if (manifest && now - manifest.fetchedAt < LISTS_MAX_AGE_MS) return { dir: join(this.o.dir, 'lists'), files: manifest.files, fetchedAt: manifest.fetchedAt };
    this.fetching ??= this.fetch().catch((e: unknown) => this.o.log?.('apt lists fetch failed; machines refresh their own', { err: String(e) })).finally(() => (this.fetching = undefined));
    return undefined;
  }

  /** Waits for a fetch in progress (tests). */
  async settled(): Promise<void> {
    await this.fetching;
  }

  private async fetch(): Promise<void> {
    const tmp = `${this.o.dir}.tmp-${process.pid}`;
    // Leftovers of fetches whose process died (several controllers share the host's lists).
    const base = basename(this.o.dir);
    for (const f of await readdir(dirname(this.o.dir)).catch(() => [])) {
      const pid = /^(?:\.tmp|\.old)-(\d+)$/.exec(f.slice(base.length))?.[1];
      if (f.startsWith(base) && pid && (Number(pid) === process.pid || !isAlive(Number(pid)))) await rm(join(dirname(this.o.dir), f), { recursive: true, force: true });
    }
    try {
      await this.fetchInto(tmp);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private async fetchInto(tmp: string): Promise<void> {
    await mkdir(join(tmp, 'lists', 'partial'), { recursive: true });
    await mkdir(join(tmp, 'cache', 'archives', 'partial'), { recursive: true });
    const started = Date.now();
    const imageLists = join(this.o.rootfs, 'var/lib/apt/lists');
    const image = await listFiles(imageLists);
    // Start from the image's lists, so only what changed is fetched (and pdiffs apply).
    for (const f of image) await copyFile(join(imageLists, f), join(tmp, 'lists', f));
    // The image's apt configuration, not the host's (which may compress its lists or use
    // another mirror): APT_CONFIG is read first, and it points the rest into the image.
    const etc = join(this.o.rootfs, 'etc/apt');
    const q = (v: string) => JSON.stringify(v);
    await writeFile(join(tmp, 'apt.conf'), [
      `Dir::Etc::Parts ${q(join(etc, 'apt.conf.d'))};`,
      `Dir::Etc::Main ${q(join(etc, 'apt.conf'))};`,
      `Dir::Etc::Preferences ${q(join(etc, 'preferences'))};`,
      `Dir::Etc::PreferencesParts ${q(join(etc, 'preferences.d'))};`,
      `Dir::Etc::SourceList ${q(join(etc, 'sources.list'))};`,
      `Dir::Etc::SourceParts ${q(join(etc, 'sources.list.d'))};`,
      `Dir::Etc::Trusted ${q(join(etc, 'trusted.gpg'))};`,
      `Dir::Etc::TrustedParts ${q(join(etc, 'trusted.gpg.d'))};`,
      `Dir::State::Lists ${q(join(tmp, 'lists'))};`,
      `Dir::State::status ${q(join(this.o.rootfs, 'var/lib/dpkg/status'))};`,
      `Dir::Cache ${q(join(tmp, 'cache'))};`,
      `Acquire::http::Proxy ${q(this.o.proxyUrl())};`,
      'Acquire::Languages "none";',
      'APT::Sandbox::User "root";',
      '',
    ].join('\n'));
    const r = await run('apt-get', ['-q', 'update'], { env: { ...CLEAN_ENV, APT_CONFIG: join(tmp, 'apt.conf') }, timeoutMs: 5 * 60_000 });
    // apt keeps the old lists and exits 0 when some indexes failed: that is not fresh.
    const failed = (r.stdout + r.stderr).split('\n').filter((l) => /^(Err:|E:|W: (Failed to fetch|Some index files))/.test(l));
    if (r.code !== 0 || failed.length > 0) throw new Error(`apt-get update failed (exit ${r.code}): ${failed.slice(0, 3).join('; ') || r.stderr.trim().slice(-300)}`);
    const fetched = await listFiles(join(tmp, 'lists'));
    if (fetched.length === 0) throw new Error('apt-get update fetched no lists (the image has no sources?)');
    // What differs from the image is what a machine needs; a list the image has and the
    // fetch dropped cannot be taken away in an upper layer, so then no lists are offered.
    if (image.some((f) => !fetched.includes(f))) throw new Error(`the image has lists the archive no longer serves (${image.filter((f) => !fetched.includes(f)).join(', ')})`);
    const files: string[] = [];
    for (const f of fetched) if (!(await sameFile(join(tmp, 'lists', f), join(imageLists, f)))) files.push(f);
    await rm(join(tmp, 'cache'), { recursive: true, force: true });
    await rm(join(tmp, 'apt.conf'), { force: true });
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify({ fetchedAt: started, files }, null, 2) + '\n');
    const old = `${this.o.dir}.old-${process.pid}`;
    await rename(this.o.dir, old).catch(() => undefined);
    await rename(tmp, this.o.dir);
    await rm(old, { recursive: true, force: true });
    this.o.log?.('apt lists fetched for new machines', { ms: Date.now() - started, changed: files.length });
  }
}

/**
 * Puts fresh lists into a new machine's upper layer (the files that differ from the image's,
 * with their times) and marks its provisioning refresh done. Directories take the image's
 * owners and modes (`mkdirLike`).
 */
export async function seedLists(upper: string, lower: string, lists: FreshLists): Promise<void> {
  const target = await mkdirLike(upper, lower, 'var/lib/apt/lists');
  const t = new Date(lists.fetchedAt);
  for (const f of lists.files) {
    await copyFile(join(lists.dir, f), join(target, f));
    await utimes(join(target, f), t, t);
  }
  const marker = await mkdirLike(upper, lower, AGENT_DATA_DIR.slice(1), 0o700);
  await writeFile(join(marker, 'apt-refreshed'), `lists of ${t.toISOString()} from the host\n`);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name !== 'lock').map((e) => e.name).sort();
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
  if (!sb || sa.size !== sb.size) return false;
  return (await readFile(a)).equals(await readFile(b));
}

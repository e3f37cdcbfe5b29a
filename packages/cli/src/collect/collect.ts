import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigilError } from '@sigil/core';
import { gitRevision, parentsOf, sourceText, type Directive } from './config.ts';
import { readTar, stripSingleTop } from './tar.ts';
import { COLLECT_INFO, type CollectInfo, checkDestOnDisk, hashTree, linksOutOf, readCollectInfo, readLocalTree, sha256, treeDigest, writeCollectInfo, writeTree } from './tree.ts';

/** Largest download accepted (a tarball or a file), in bytes. */
export const MAX_DOWNLOAD = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 300_000;
/** Where directives stage their work inside the root before it is moved into place. */
const STAGING = '.sigil-collect';

export interface CollectResult {
  directive: Directive;
  status: 'collected' | 'kept' | 'failed' | 'skipped';
  /** The source pinned to what was collected: `url;revno=<commit>` or `url;sha256=<digest>`. */
  pinned?: string;
  commit?: string;
  digest?: string;
  ms: number;
  error?: SigilError;
}

export interface CollectOptions {
  /** Directives run at once at most (Codetree runs one worker per directive). */
  jobs?: number;
  /** Directory that relative local sources are resolved against (the config file's). */
  baseDir: string;
  onResult?: (r: CollectResult) => void;
  now?: () => Date;
}

function where(d: Directive): string {
  return `${d.file}:${d.line}`;
}

function git(args: string[], cwd?: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) rej(new Error((stderr || err.message).trim().split('\n').slice(-3).join('; ')));
      else res(stdout.trim());
    });
  });
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^true$/i.test(v);
}

/** Moves a finished staging directory into place, replacing what an earlier collection left there. */
function install(staged: string, target: string, d: Directive): void {
  if (existsSync(target)) {
    const st = lstatSync(target);
    const ours = st.isDirectory() && (existsSync(join(target, COLLECT_INFO)) || existsSync(join(target, '.git')) || readdirSync(target).length === 0);
    if (!ours && !truthy(d.options.overwrite)) {
      throw new SigilError('already-exists', `${where(d)}: "${d.dest}" already exists and was not collected here`, `remove it, or add ;overwrite=true to replace it: ${d.dest} ${sourceText(d.url, { ...d.options, overwrite: 'true' })}`);
    }
    rmSync(target, { recursive: true, force: true });
  }
  mkdirSync(dirname(target), { recursive: true });
  renameSync(staged, target);
}

function pinnedOptions(d: Directive, extra: Record<string, string>): Record<string, string> {
  const { revno: _r, ref: _f, branch: _b, depth: _d, sha256: _s, ...rest } = d.options;
  return { ...rest, ...extra };
}

async function collectGit(d: Directive, staged: string, now: Date, previous: CollectInfo | undefined): Promise<Pick<CollectResult, 'pinned' | 'commit' | 'digest'>> {
  const url = d.url.replace(/^git\+/, '');
  const rev = gitRevision(d);
  const args = ['clone', '--quiet', '--no-checkout'];
  if (d.options.depth !== undefined && rev === undefined) args.push('--depth', d.options.depth);
  if (d.options.branch !== undefined) args.push('--branch', d.options.branch, '--single-branch');
  try {
    await git([...args, '--', url, staged]);
  } catch (e) {
    throw new SigilError('unavailable', `${where(d)}: cannot clone ${d.url}: ${(e as Error).message}`, 'check the URL and that the repository is reachable from here (git clone it by hand to see why)');
  }
  let target = 'HEAD';
  if (rev !== undefined) {
    const found = await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], staged).catch(() => git(['rev-parse', '--verify', '--quiet', `origin/${rev}^{commit}`], staged)).catch(() => '');
    if (found === '') throw new SigilError('not-found', `${where(d)}: ${d.url} has no commit, tag or branch "${rev}"`, 'check revno=/ref= against `git ls-remote` of the repository');
    target = found;
  }
  await git(['checkout', '--quiet', '--detach', target], staged);
  const commit = await git(['rev-parse', 'HEAD'], staged);
  const out = linksOutOf(staged);
  if (out.length > 0) throw new SigilError('bad-request', `${where(d)}: ${d.url} holds symlinks pointing outside it: ${out.slice(0, 3).join(', ')}`, 'a collected tree may link only inside itself; fix the repository');
  const pinned = sourceText(d.url, pinnedOptions(d, { revno: commit }));
  const hashes = hashTree(staged);
  writeCollectInfo(staged, pinned, hashes, previous, now);
  return { pinned, commit, digest: treeDigest(hashes) };
}

function localPath(d: Directive, baseDir: string): string {
  if (d.url.startsWith('file://')) return fileURLToPath(d.url);
  return isAbsolute(d.url) ? d.url : resolve(d.base ?? baseDir, d.url);
}

async function download(d: Directive): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(d.url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new SigilError('unavailable', `${where(d)}: cannot fetch ${d.url}: ${cause ?? (e as Error).message}`, 'check the URL and that the server is reachable from here');
  }
  if (!res.ok) throw new SigilError('unavailable', `${where(d)}: fetching ${d.url} answered HTTP ${res.status}`, 'check the URL');
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_DOWNLOAD) throw new SigilError('bad-request', `${where(d)}: ${d.url} is ${length} bytes, more than the ${MAX_DOWNLOAD} accepted`, 'collect it another way, e.g. from git');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += (chunk as Uint8Array).length;
    if (total > MAX_DOWNLOAD) throw new SigilError('bad-request', `${where(d)}: ${d.url} is larger than the ${MAX_DOWNLOAD} bytes accepted`, 'collect it another way, e.g. from git');
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

export function isTarball(url: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(new URL(url, 'file:///').pathname);
}

/** Collects a tree (a local directory or a tarball's entries) into staging, with collect-info. */
function collectTree(d: Directive, staged: string, entries: Parameters<typeof writeTree>[1], now: Date, previous: CollectInfo | undefined) {
  writeTree(staged, entries.filter((e) => e.path !== COLLECT_INFO));
  const hashes = hashTree(staged);
  const digest = treeDigest(hashes);
  if (d.options.sha256 !== undefined && d.options.sha256 !== digest) {
    throw new SigilError('conflict', `${where(d)}: ${d.url} does not match its pin (sha256 ${digest.slice(0, 12)}…, pinned ${d.options.sha256.slice(0, 12)}…)`, 'the source changed since it was pinned; collect without ;sha256= to take the new content, then pin again');
  }
  const pinned = sourceText(d.url, pinnedOptions(d, { sha256: digest }));
  writeCollectInfo(staged, pinned, hashes, previous, now);
  return { pinned, digest };
}

/** A single file (an HTTP download or a local file): kept when it exists, unless overwrite=true, as Codetree does. */
function collectFile(d: Directive, target: string, data: Buffer): CollectResult['status'] | { pinned: string; digest: string } {
  const digest = sha256(data);
  if (d.options.sha256 !== undefined && d.options.sha256 !== digest) {
    throw new SigilError('conflict', `${where(d)}: ${d.url} does not match its pin (sha256 ${digest.slice(0, 12)}…)`, 'the source changed since it was pinned; collect without ;sha256= to take the new content, then pin again');
  }
  const pinned = sourceText(d.url, pinnedOptions(d, { sha256: digest }));
  if (existsSync(target)) {
    if (!lstatSync(target).isFile()) throw new SigilError('already-exists', `${where(d)}: "${d.dest}" exists and is not a file`, 'remove it, or choose another destination');
    if (!truthy(d.options.overwrite)) return 'kept';
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.sigil-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data);
  renameSync(tmp, target);
  return { pinned, digest };
}

async function collectOne(d: Directive, root: string, o: CollectOptions, previous: CollectInfo | undefined): Promise<Omit<CollectResult, 'directive' | 'ms'>> {
  const target = checkDestOnDisk(root, d.dest, where(d));
  const now = (o.now ?? (() => new Date()))();
  if (d.kind === 'empty') {
    if (existsSync(target) && !lstatSync(target).isDirectory()) throw new SigilError('already-exists', `${where(d)}: "${d.dest}" exists and is not a directory`, 'remove it, or choose another destination');
    mkdirSync(target, { recursive: true });
    return { status: 'collected', pinned: '@' };
  }
  const staged = join(root, STAGING, `${d.dest.replace(/\//g, '_')}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dirname(staged), { recursive: true });
  try {
    if (d.kind === 'git') {
      const r = await collectGit(d, staged, now, previous);
      install(staged, target, d);
      return { status: 'collected', ...r };
    }
    if (d.kind === 'http') {
      const data = await download(d);
      if (!isTarball(d.url)) {
        const r = collectFile(d, target, data);
        return typeof r === 'string' ? { status: r, pinned: sourceText(d.url, pinnedOptions(d, { sha256: sha256(data) })), digest: sha256(data) } : { status: 'collected', ...r };
      }
      const r = collectTree(d, staged, stripSingleTop(readTar(data, d.url)), now, previous);
      install(staged, target, d);
      return { status: 'collected', ...r };
    }
    const path = localPath(d, o.baseDir);
    if (!existsSync(path)) throw new SigilError('not-found', `${where(d)}: local source "${d.url}" does not exist (looked at ${path})`, 'relative sources are resolved against the directory of the config file');
    if (statSync(path).isFile()) {
      const r = collectFile(d, target, readFileSync(path));
      return typeof r === 'string' ? { status: r } : { status: 'collected', ...r };
    }
    const r = collectTree(d, staged, readLocalTree(path, `${where(d)}: ${d.url}`), now, previous);
    install(staged, target, d);
    return { status: 'collected', ...r };
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}

/**
 * Collects every directive into `root`: each after its parent, independent ones at once (at
 * most `jobs`). A failure is reported with its file:line and stops that directive's children,
 * not the others; what was collected stays. Resolves with every result, in config order.
 */
export async function collectAll(directives: readonly Directive[], root: string, o: CollectOptions): Promise<CollectResult[]> {
  mkdirSync(root, { recursive: true });
  const parents = parentsOf(directives);
  // Every directive's previous collect-info, read before anything is replaced: a parent
  // collected again replaces its children's directories, and their unchanged info (and date)
  // must survive that.
  const previous = new Map<string, CollectInfo | undefined>();
  for (const d of directives) {
    try {
      previous.set(d.dest, readCollectInfo(checkDestOnDisk(root, d.dest, where(d))));
    } catch {
      previous.set(d.dest, undefined); // A bad destination is reported when it is collected.
    }
  }
  const jobs = Math.max(1, o.jobs ?? directives.length);
  let running = 0;
  const queue: (() => void)[] = [];
  const slot = async () => {
    if (running >= jobs) await new Promise<void>((r) => queue.push(r));
    running++;
  };
  const release = () => {
    running--;
    queue.shift()?.();
  };
  const done = new Map<string, Promise<CollectResult>>();
  const run = async (d: Directive): Promise<CollectResult> => {
    const parent = parents.get(d.dest);
    if (parent !== undefined) {
      const p = await done.get(parent)!;
      if (p.status === 'failed' || p.status === 'skipped') {
        const r: CollectResult = { directive: d, status: 'skipped', ms: 0, error: new SigilError('conflict', `${where(d)}: not collected because its parent "${parent}" failed`, 'fix the parent directive first') };
        o.onResult?.(r);
        return r;
      }
    }
    await slot();
    const started = Date.now();
    let r: CollectResult;
    try {
      r = { directive: d, ms: 0, ...(await collectOne(d, root, o, previous.get(d.dest))) };
    } catch (e) {
      const err = e instanceof SigilError ? e : new SigilError('internal', `${where(d)}: ${(e as Error).message}`, 'run again with SIGIL_DEBUG=1 for details');
      r = { directive: d, status: 'failed', ms: 0, error: err };
    } finally {
      release();
    }
    r.ms = Date.now() - started;
    o.onResult?.(r);
    return r;
  };
  // Directives are listed parents-first by construction: a parent's promise exists before its child asks for it.
  const ordered = [...directives].sort((a, b) => a.dest.split('/').length - b.dest.split('/').length);
  for (const d of ordered) done.set(d.dest, run(d));
  const results = await Promise.all(directives.map((d) => done.get(d.dest)!));
  rmSync(join(root, STAGING), { recursive: true, force: true });
  return results;
}

/** A config that collects exactly what was collected: every source pinned (Codetree's `str(results)`). */
export function pinnedConfig(results: readonly CollectResult[]): string {
  const width = Math.max(...results.map((r) => r.directive.dest.length), 0);
  return results.map((r) => `${r.directive.dest.padEnd(width)} ${r.pinned ?? sourceText(r.directive.url, r.directive.options)}`).join('\n') + '\n';
}

/** One progress line: what happened to a directive, where it came from, and how long it took. */
export function resultLine(r: CollectResult): string {
  const d = r.directive;
  const secs = `${(r.ms / 1000).toFixed(1)}s`;
  switch (r.status) {
    case 'collected':
      return `collected ${d.dest} from ${r.commit !== undefined ? `${d.url} at ${r.commit.slice(0, 12)}` : d.url} (${secs})`;
    case 'kept':
      return `kept      ${d.dest}: it exists (add ;overwrite=true to replace it)`;
    case 'skipped':
      return `skipped   ${d.dest}: its parent failed`;
    case 'failed':
      return `failed    ${d.dest}: ${r.error?.message ?? 'unknown error'}`;
  }
}

import { SigilError, quoteArchivePath } from '@sigil/core';
import { expandVariables } from '../spec/manifest.ts';

/**
 * Codetree's config grammar (lp:codetree, `codetree/config.py`): one directive per line,
 * `DEST SOURCE[;opt=val,opt=val]`, split on the first run of whitespace; blank lines and
 * lines starting with `#` are ignored; options follow the last `;` of the source. The
 * destination is a path inside the collection root; `@` as the source makes an empty directory.
 */

export type SourceKind = 'git' | 'local' | 'http' | 'empty';

export interface Directive {
  /** Normalised path inside the collection root: no `.`, `..`, leading or trailing `/`. */
  dest: string;
  /** The source as written, options stripped: `git+file:///srv/repo`, `./charm`, `@`. */
  url: string;
  kind: SourceKind;
  options: Record<string, string>;
  file: string;
  line: number;
  /** Directory a relative local source resolves against, when not the collection's default. */
  base?: string;
}

/** Options each kind of source understands; anything else is refused rather than ignored. */
const OPTIONS: Record<SourceKind, readonly string[]> = {
  git: ['revno', 'ref', 'branch', 'depth', 'overwrite'],
  local: ['overwrite', 'sha256'],
  http: ['overwrite', 'sha256'],
  empty: [],
};

const UNSUPPORTED: [RegExp, string][] = [
  [/^(bzr|bzr\+ssh|bzr\+https?|nosmart\+.*|lp):/, 'Bazaar branches (bzr:, lp:) are not supported; publish the branch as git and use git+https://…'],
  [/^cs:/, 'the Juju charm store (cs:) is gone; collect the charm from its git repository (git+https://…;revno=COMMIT) or deploy it by name from the controller\'s charm library'],
];

const HINT = 'a Codetree line is `DEST SOURCE[;opt=val,…]`, e.g. `charms/postgresql git+https://host/repo;revno=abc`';

function at(file: string, line: number): string {
  return `${file}:${line}`;
}

/** The kind of source a URL names, or undefined when Sigil cannot collect it. */
export function sourceKind(url: string): SourceKind | undefined {
  if (url === '@') return 'empty';
  if (/^git(\+(ssh|https?|file))?:\/\//.test(url)) return 'git';
  if (/^https?:\/\//.test(url)) return 'http';
  if (url.startsWith('file://')) return 'local';
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return undefined;
  return 'local';
}

/** Checks and normalises a destination: relative, inside the root, no `..`, no URL. */
export function checkDest(dest: string, where: string): string {
  const bad = (why: string) => new SigilError('bad-request', `${where}: destination ${quoteArchivePath(dest)} ${why}`, 'a destination is a relative path inside the collection directory, e.g. `charms/postgresql`');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) throw bad('is a URL (it must be a local path)');
  if (dest.startsWith('/')) throw bad('is an absolute path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(dest)) throw bad('has a backslash or control character');
  const parts = dest.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw bad('climbs out with ".."');
  if (parts.length === 0) throw bad('is the collection root itself');
  return parts.join('/');
}

function parseOptions(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SigilError('bad-request', `${where}: option "${pair}" is not key=value`, HINT);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Parses one config file's text; `file` names it in errors (`collect-next:3: …`). With `env`,
 * `${VAR}` and `${VAR:-default}` are expanded first, as in a manifest (a Sigil addition: a
 * Codetree line never contains `${`), so one spec can name repositories that live elsewhere.
 */
export function parseCollectConfig(text: string, file: string, env?: Readonly<Record<string, string | undefined>>): Directive[] {
  const out: Directive[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const where = at(file, line);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (env !== undefined && trimmed.includes('${')) {
      parseCollectConfig(`${'\n'.repeat(i)}${expandVariables(trimmed, env, file, line)}`, file).forEach((d) => {
        if (seen.has(d.dest)) throw new SigilError('bad-request', `${where}: destination "${d.dest}" is already collected at line ${seen.get(d.dest)!}`, 'each destination may appear once');
        seen.set(d.dest, line);
        out.push(d);
      });
      return;
    }
    const m = /^(\S+)\s+(.+)$/.exec(trimmed);
    if (!m) throw new SigilError('bad-request', `${where}: "${trimmed}" has a destination but no source`, HINT);
    const dest = checkDest(m[1]!, where);
    const source = m[2]!.trim();
    if (/\s/.test(source)) throw new SigilError('bad-request', `${where}: the source "${source}" contains whitespace`, `${HINT}; one directive per line`);
    const semi = source.lastIndexOf(';');
    const url = semi === -1 ? source : source.slice(0, semi);
    const options = semi === -1 ? {} : parseOptions(source.slice(semi + 1), where);
    for (const [re, hint] of UNSUPPORTED) if (re.test(url)) throw new SigilError('bad-request', `${where}: source "${url}" cannot be collected`, hint);
    const kind = sourceKind(url);
    if (kind === undefined) throw new SigilError('bad-request', `${where}: unknown source scheme in "${url}"`, 'sources are git+https://, git+ssh://, git+file://, git://, http(s):// (a tarball or one file), file:// or a local path, or @ for an empty directory');
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url)) throw new SigilError('bad-request', `${where}: the source URL carries a password`, 'credentials never go into a config file (they would be copied into collect-info and logs); use an SSH key or a git credential helper');
    if (url === '') throw new SigilError('bad-request', `${where}: empty source`, HINT);
    for (const k of Object.keys(options)) {
      if (!OPTIONS[kind].includes(k)) {
        throw new SigilError('bad-request', `${where}: option "${k}" does not apply to a ${kind === 'empty' ? '@ (empty directory)' : kind} source`, OPTIONS[kind].length ? `${kind} sources take ${OPTIONS[kind].join(', ')}` : '@ takes no options');
      }
    }
    if (options.revno !== undefined && options.ref !== undefined) throw new SigilError('bad-request', `${where}: both revno= and ref= given`, 'they mean the same (a commit, tag or branch); give one');
    if (options.depth !== undefined && !/^[1-9]\d*$/.test(options.depth)) throw new SigilError('bad-request', `${where}: depth=${options.depth} is not a positive whole number`, 'e.g. depth=1');
    if (options.overwrite !== undefined && !/^(true|false)$/i.test(options.overwrite)) throw new SigilError('bad-request', `${where}: overwrite=${options.overwrite} is not true or false`, 'e.g. overwrite=true');
    if (options.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(options.sha256)) throw new SigilError('bad-request', `${where}: sha256=${options.sha256} is not a sha256 hex digest`, 'use the value `sigil collect --pin` wrote');
    const earlier = seen.get(dest);
    if (earlier !== undefined) throw new SigilError('bad-request', `${where}: destination "${dest}" is already collected at line ${earlier}`, 'each destination may appear once');
    seen.set(dest, line);
    out.push({ dest, url, kind, options, file, line });
  });
  return out;
}

/** The revision a git directive asks for (Codetree's revno=, or ref=), if any. */
export function gitRevision(d: Directive): string | undefined {
  return d.options.revno ?? d.options.ref;
}

/** The source line as a config would carry it: URL, then options sorted, as Codetree's pinned output. */
export function sourceText(url: string, options: Record<string, string>): string {
  const opts = Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return opts.length ? `${url};${opts.join(',')}` : url;
}

/**
 * The order of collection: each directive's parent is the nearest other directive whose
 * destination contains it. Parents are collected before their children; the rest run at once.
 */
export function parentsOf(directives: readonly Directive[]): Map<string, string | undefined> {
  const dests = new Set(directives.map((d) => d.dest));
  const out = new Map<string, string | undefined>();
  for (const d of directives) {
    const parts = d.dest.split('/');
    let parent: string | undefined;
    for (let n = parts.length - 1; n > 0 && parent === undefined; n--) {
      const p = parts.slice(0, n).join('/');
      if (dests.has(p)) parent = p;
    }
    out.set(d.dest, parent);
  }
  return out;
}

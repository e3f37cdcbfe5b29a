import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseCollectConfig } from './config.ts';
import { collectAll, pinnedConfig, resultLine } from './collect.ts';
import { COLLECT_INFO, readCollectInfo, sha256 } from './tree.ts';
import { readTar } from './tar.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-collect-'));
let server: Server;
let base = '';
const served = new Map<string, Buffer>();

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } }).toString().trim();
}

/** A git repository with a charm-like tree and two commits; returns the two commit ids. */
function makeRepo(dir: string): [string, string] {
  mkdirSync(join(dir, 'hooks'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'metadata.yaml'), 'name: demo\n');
  writeFileSync(join(dir, 'hooks', 'install'), '#!/bin/sh\necho one\n', { mode: 0o755 });
  writeFileSync(join(dir, '.hidden'), 'not hashed\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(join(dir, 'hooks', 'install'), '#!/bin/sh\necho two\n', { mode: 0o755 });
  git(dir, 'commit', '-qam', 'two');
  git(dir, 'tag', 'v2');
  return [first, git(dir, 'rev-parse', 'HEAD')];
}

async function collect(text: string, root: string, jobs?: number) {
  const ds = parseCollectConfig(text, 'collect');
  const lines: string[] = [];
  const results = await collectAll(ds, root, { baseDir: tmp, onResult: (r) => lines.push(resultLine(r)), ...(jobs !== undefined ? { jobs } : {}) });
  return { results, lines };
}

let repo = '';
let commits: [string, string] = ['', ''];

beforeAll(async () => {
  repo = join(tmp, 'repo');
  commits = makeRepo(repo);
  const src = join(tmp, 'tarsrc', 'app-1.0');
  mkdirSync(join(src, 'static'), { recursive: true });
  writeFileSync(join(src, 'manage.py'), 'print("hi")\n');
  writeFileSync(join(src, 'static', 'site.css'), 'body{}\n');
  execFileSync('tar', ['-czf', join(tmp, 'app.tar.gz'), '-C', join(tmp, 'tarsrc'), 'app-1.0']);
  served.set('/app-1.0.tar.gz', readFileSync(join(tmp, 'app.tar.gz')));
  served.set('/logo.txt', Buffer.from('logo v1\n'));
  // An archive whose entry climbs out: tar writes it as given with -P.
  mkdirSync(join(tmp, 'evil'), { recursive: true });
  writeFileSync(join(tmp, 'evil', 'x'), 'x');
  execFileSync('tar', ['-czPf', join(tmp, 'evil.tar.gz'), '--transform', 's,^.*evil/x$,../../escaped,', join(tmp, 'evil', 'x')]);
  served.set('/evil.tar.gz', readFileSync(join(tmp, 'evil.tar.gz')));
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('sigil collect', () => {
  it('collects git (at a commit, a tag, the default branch), local trees, tarballs, files and @ with collect-info', async () => {
    const root = join(tmp, 'out1');
    writeFileSync(join(tmp, 'local-charm.txt'), 'a local file\n');
    const { results, lines } = await collect([
      `charms/head git+file://${repo}`,
      `charms/old git+file://${repo};revno=${commits[0]}`,
      `charms/tag git+file://${repo};ref=v2`,
      `copy ${repo}`,
      `app ${base}/app-1.0.tar.gz`,
      `app/logo.txt ${base}/logo.txt`,
      'downloads @',
      'notes.txt local-charm.txt',
    ].join('\n'), root);
    expect(results.map((r) => [r.directive.dest, r.status])).toEqual([
      ['charms/head', 'collected'], ['charms/old', 'collected'], ['charms/tag', 'collected'], ['copy', 'collected'],
      ['app', 'collected'], ['app/logo.txt', 'collected'], ['downloads', 'collected'], ['notes.txt', 'collected'],
    ]);
    expect(lines).toHaveLength(8);
    expect(readFileSync(join(root, 'charms/old/hooks/install'), 'utf8')).toContain('one');
    expect(readFileSync(join(root, 'charms/head/hooks/install'), 'utf8')).toContain('two');
    expect(results[1]!.commit).toBe(commits[0]);
    expect(results[2]!.commit).toBe(commits[1]);
    // Codetree's format: the pinned URL, a date, and a sha256 per file except dotfiles.
    const info = YAML.parse(readFileSync(join(root, 'charms/head', COLLECT_INFO), 'utf8'));
    expect(info.collect_url).toBe(`git+file://${repo};revno=${commits[1]}`);
    expect(info.collect_date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(info.hashes).toEqual({ 'hooks/install': sha256('#!/bin/sh\necho two\n'), 'metadata.yaml': sha256('name: demo\n') });
    // A local copy leaves .git out; the tarball's single top directory is stripped.
    expect(existsSync(join(root, 'copy', '.git'))).toBe(false);
    expect(readFileSync(join(root, 'app', 'static', 'site.css'), 'utf8')).toBe('body{}\n');
    expect(readCollectInfo(join(root, 'app'))!.collect_url).toMatch(new RegExp(`^${base}/app-1.0.tar.gz;sha256=[0-9a-f]{64}$`));
    expect(readFileSync(join(root, 'app', 'logo.txt'), 'utf8')).toBe('logo v1\n');
    expect(existsSync(join(root, 'app', 'logo.txt', COLLECT_INFO))).toBe(false);
    expect(readdirSync(join(root, 'downloads'))).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(['app', 'charms', 'copy', 'downloads', 'notes.txt']);

    // The pinned config collects exactly the same again, and an unchanged collection keeps its info (and date).
    const pin = pinnedConfig(results);
    expect(pin).toContain(`charms/head  git+file://${repo};revno=${commits[1]}`);
    expect(pin).toMatch(/copy\s+\S+;sha256=[0-9a-f]{64}/);
    const before = readFileSync(join(root, 'charms/head', COLLECT_INFO), 'utf8');
    const again = await collect(pin, root);
    expect(again.results.every((r) => r.status === 'collected' || r.status === 'kept')).toBe(true);
    expect(readFileSync(join(root, 'charms/head', COLLECT_INFO), 'utf8')).toBe(before);
    expect(again.results.find((r) => r.directive.dest === 'notes.txt')!.status).toBe('kept');
    // A child of a re-collected parent is collected again into the fresh parent.
    expect(readFileSync(join(root, 'app', 'logo.txt'), 'utf8')).toBe('logo v1\n');
  });

  it('a pin that no longer matches fails that directive and leaves what was there', async () => {
    const root = join(tmp, 'out2');
    const src = join(tmp, 'drifting');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'f'), 'v1');
    const first = await collect(`d ${src}`, root);
    const pin = pinnedConfig(first.results);
    writeFileSync(join(src, 'f'), 'v2');
    const { results } = await collect(pin, root);
    expect(results[0]!.status).toBe('failed');
    expect(results[0]!.error!.message).toMatch(/^collect:1: .* does not match its pin/);
    expect(readFileSync(join(root, 'd', 'f'), 'utf8')).toBe('v1');
  });

  it('refuses sources and destinations that would write outside the root, before writing', async () => {
    const root = join(tmp, 'out3');
    const linky = join(tmp, 'linky');
    mkdirSync(linky, { recursive: true });
    symlinkSync('/etc/passwd', join(linky, 'passwd'));
    mkdirSync(root, { recursive: true });
    symlinkSync(tmp, join(root, 'through'));
    const { results } = await collect([`a ${linky}`, `b ${base}/evil.tar.gz`, `through/x ${repo}`, `c git+file://${tmp}/nope`, `d ${base}/missing.tar.gz`].join('\n'), root);
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(results[0]!.error!.message).toContain('symlink "passwd" points outside the source');
    expect(results[1]!.error!.message).toContain('climbs out');
    expect(results[2]!.error!.message).toContain('passes through the symlink through');
    expect(results[3]!.error!.message).toMatch(/^collect:4: cannot clone/);
    expect(results[4]!.error!.message).toContain('HTTP 404');
    expect(existsSync(join(tmp, 'escaped'))).toBe(false);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    expect(readdirSync(root)).toEqual(['through']);
  });

  it('does not replace a directory it did not collect unless overwrite=true, and skips children of a failed parent', async () => {
    const root = join(tmp, 'out4');
    mkdirSync(join(root, 'mine'), { recursive: true });
    writeFileSync(join(root, 'mine', 'keep'), 'user data');
    const { results } = await collect(`mine ${repo}\nmine/sub @\nother git+file://${repo};revno=nosuchref`, root);
    expect(results.map((r) => r.status)).toEqual(['failed', 'skipped', 'failed']);
    expect(results[0]!.error!.hint).toContain(';overwrite=true');
    expect(results[2]!.error!.message).toContain('no commit, tag or branch "nosuchref"');
    expect(readFileSync(join(root, 'mine', 'keep'), 'utf8')).toBe('user data');
    const forced = await collect(`mine ${repo};overwrite=true`, root);
    expect(forced.results[0]!.status).toBe('collected');
    expect(existsSync(join(root, 'mine', 'keep'))).toBe(false);
  });
});

describe('collecting again', () => {
  it('keeps every unchanged collect-info byte for byte, children of a replaced parent included', async () => {
    const root = join(tmp, 'out5');
    const parent = join(tmp, 'parent-src');
    mkdirSync(join(parent, 'lib'), { recursive: true });
    writeFileSync(join(parent, 'lib', 'a.txt'), 'a');
    const cfg = `charm ${parent}\ncharm/hooks git+file://${repo};revno=${commits[0]}\n`;
    await collect(cfg, root);
    const before = [readFileSync(join(root, 'charm', COLLECT_INFO), 'utf8'), readFileSync(join(root, 'charm/hooks', COLLECT_INFO), 'utf8')];
    const again = await collect(cfg, root);
    expect(again.results.map((r) => r.status)).toEqual(['collected', 'collected']);
    expect([readFileSync(join(root, 'charm', COLLECT_INFO), 'utf8'), readFileSync(join(root, 'charm/hooks', COLLECT_INFO), 'utf8')]).toEqual(before);
    // A change to the child's source is a new collection with a new date.
    const next = await collect(`charm ${parent}\ncharm/hooks git+file://${repo};revno=${commits[1]}\n`, root);
    expect(next.results[1]!.commit).toBe(commits[1]);
    expect(readFileSync(join(root, 'charm/hooks', COLLECT_INFO), 'utf8')).not.toBe(before[1]);
  });
});

describe('tar reader', () => {
  it('reads a gzipped tarball and refuses absolute names before anything is written', () => {
    const entries = readTar(readFileSync(join(tmp, 'app.tar.gz')), 'app.tar.gz');
    expect(entries.map((e) => `${e.type} ${e.path}`).sort()).toEqual(['dir app-1.0', 'dir app-1.0/static', 'file app-1.0/manage.py', 'file app-1.0/static/site.css']);
    execFileSync('tar', ['-cPf', join(tmp, 'abs.tar'), join(tmp, 'local-charm.txt')]);
    expect(() => readTar(readFileSync(join(tmp, 'abs.tar')), 'abs.tar')).toThrow(/archive abs.tar: entry .* is an absolute path/);
  });
});

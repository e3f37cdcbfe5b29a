import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectUnit, reportBody } from './collect.ts';
import { HashedFiles } from './hashed-files.ts';
import { packageFiles, parseDpkgStatus } from './dpkg.ts';
import { parseManifest } from './language.ts';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function put(root: string, rel: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), content);
}

/** A machine root with a dpkg database: package `fake` ships two files, one since modified, one removed. */
function machine(): string {
  const root = mkdtempSync(join(tmpdir(), 'sigil-audit-'));
  dirs.push(root);
  put(root, 'var/lib/dpkg/status', [
    'Package: fake\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2-3\nSource: fake-src\n',
    'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n',
    'Package: ???\x00\x01junk\n',
    '',
  ].join('\n'));
  put(root, 'var/lib/dpkg/info/fake:amd64.md5sums', `${md5('one\n')}  usr/share/fake/one.txt\n${md5('two\n')}  usr/share/fake/two.txt\n${md5('three\n')}  usr/lib/fake/three\n`);
  put(root, 'usr/share/fake/one.txt', 'one\n');
  put(root, 'usr/share/fake/two.txt', 'two, changed by hand\n');
  return root;
}

describe('collectUnit', () => {
  it('lists packages, the files changed from them (modified, missing) and leaves package files out of the hashed set', async () => {
    const root = machine();
    put(root, 'opt/app/lib.c', 'int main;\n');
    const unitDir = join(root, 'agents', 'unit-app-0');
    put(unitDir, 'charm/metadata.yaml', 'name: app\n');
    const r = await collectUnit({ unit: 'app/0', request: 3, root, unitDir, charmDir: join(unitDir, 'charm') });
    expect(r.request).toBe(3);
    expect(r.packages).toEqual([{ name: 'fake', version: '1.2-3', arch: 'amd64', source: 'fake-src' }]);
    expect(r.changed).toEqual([
      { package: 'fake', path: '/usr/share/fake/two.txt', state: 'modified' },
      { package: 'fake', path: '/usr/lib/fake/three', state: 'missing' },
    ]);
    const paths = r.files.toJSON().map(([p]) => p);
    expect(paths).toContain(join(root, 'opt/app/lib.c'));
    expect(paths.some((p) => p.includes('usr/share/fake'))).toBe(false);
    expect(paths.some((p) => p.includes('/charm/'))).toBe(false);
    expect(r.charm).toEqual({ files: 1, collected: false, modified: [], missing: [] });
    expect(r.skipped.byReason['dpkg status stanzas that do not parse: 1']).toBe(1);
  });

  it('finds language packages and reads charm provenance from collect-info', async () => {
    const root = machine();
    put(root, 'srv/web/node_modules/left-pad/package.json', JSON.stringify({ name: 'left-pad', version: '1.1.3' }));
    put(root, 'srv/web/node_modules/junk/package.json', Buffer.from([0xff, 0x00, 0x7b, 0x22, 0x01, 0xfe]));
    put(root, 'usr/local/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n\nbody');
    put(root, 'var/www/site/composer.lock', JSON.stringify({ packages: [{ name: 'monolog/monolog', version: 'v2.3.0' }] }));
    put(root, 'opt/go/go.sum', 'golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod h1:def=\n');
    put(root, 'opt/ruby/specifications/rack-2.2.3.gemspec', '# gemspec');
    const unitDir = join(root, 'agents', 'unit-app-0');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    put(unitDir, 'charm/hooks/install', '#!/bin/sh\n');
    put(unitDir, 'charm/metadata.yaml', 'name: app, edited\n');
    put(unitDir, 'charm/codetree-collect-info.yaml', `collect_url: "git+https://example.invalid/app;revno=abc123"\ncollect_date: "2026-12-01"\nhashes:\n  hooks/install: ${sha('#!/bin/sh\n')}\n  metadata.yaml: ${sha('name: app\n')}\n  config.yaml: ${sha('x')}\n`);
    const r = await collectUnit({ unit: 'app/0', request: 0, root, unitDir, charmDir: join(unitDir, 'charm') });
    expect(r.language.map((l) => `${l.ecosystem}:${l.name}=${l.version}`).sort()).toEqual(['Go:golang.org/x/text=0.3.7', 'Packagist:monolog/monolog=2.3.0', 'PyPI:requests=2.25.0', 'RubyGems:rack=2.2.3', 'npm:left-pad=1.1.3']);
    expect(Object.keys(r.skipped.byReason).some((k) => k.startsWith('manifest does not parse'))).toBe(true);
    expect(r.charm).toMatchObject({ collected: true, source: 'git+https://example.invalid/app', commit: 'abc123', modified: ['metadata.yaml'], missing: ['config.yaml'] });
  });

  it('does not follow symbolic links (loops included) and stops a huge tree at its limit, counting what it skipped', async () => {
    const root = machine();
    for (let i = 0; i < 120; i++) put(root, `srv/big/f${i}`, `file ${i}`);
    mkdirSync(join(root, 'opt/loop'), { recursive: true });
    symlinkSync(join(root, 'opt/loop'), join(root, 'opt/loop/again'));
    symlinkSync('/etc/passwd', join(root, 'opt/loop/outside'));
    const unitDir = join(root, 'agents', 'unit-app-0');
    const r = await collectUnit({ unit: 'app/0', request: 1, root, unitDir, charmDir: join(unitDir, 'charm'), limits: { maxFiles: 100 } });
    expect(r.files.length).toBe(100);
    expect(r.skipped.byReason['symbolic link (not followed)']).toBe(2);
    expect(Object.keys(r.skipped.byReason).some((k) => k.startsWith('file limit reached (100)'))).toBe(true);
    expect(r.files.toJSON().some(([p]) => p.includes('/etc/passwd') || p.includes('again'))).toBe(false);
  });

  it('counts a file dpkg lists under /bin as owned where merged /usr keeps it (/usr/bin)', async () => {
    const root = machine();
    put(root, 'var/lib/dpkg/status', 'Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n');
    put(root, 'var/lib/dpkg/info/tool:amd64.md5sums', `${md5('tool\n')}  bin/tool\n${md5('lib\n')}  lib/x86_64-linux-gnu/libtool.so.1\n`);
    put(root, 'usr/bin/tool', 'tool\n');
    put(root, 'usr/lib/x86_64-linux-gnu/libtool.so.1', 'lib\n');
    put(root, 'usr/bin/unpackaged', 'mine\n');
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('usr/lib', join(root, 'lib'));
    const unitDir = join(root, 'agents', 'unit-app-0');
    const r = await collectUnit({ unit: 'app/0', request: 1, root, unitDir, charmDir: join(unitDir, 'charm') });
    expect(r.changed).toEqual([]);
    const paths = r.files.toJSON().map(([p]) => p);
    expect(paths).toContain(join(root, 'usr/bin/unpackaged'));
    expect(paths).not.toContain(join(root, 'usr/bin/tool'));
    expect(paths).not.toContain(join(root, 'usr/lib/x86_64-linux-gnu/libtool.so.1'));
  });

  it('collects an empty machine (no dpkg database) without error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sigil-audit-empty-'));
    dirs.push(root);
    const r = await collectUnit({ unit: 'a/0', request: 1, root, unitDir: join(root, 'nowhere'), charmDir: join(root, 'nowhere/charm') });
    expect(r).toMatchObject({ packages: [], changed: [], language: [], skipped: { count: 0 } });
    expect(r.files.toJSON()).toEqual([]);
  });
});

describe('packageFiles', () => {
  it('reads the md5sums the controller asked for (by architecture or not), leaving out packages without any', async () => {
    const root = machine();
    put(root, 'var/lib/dpkg/info/plain.md5sums', `${md5('p\n')}  usr/share/plain/p.txt\nnot a line\n${md5('x')}  ../../etc/shadow\n`);
    const got = await packageFiles(root, [
      { name: 'fake', version: '1.2-3', arch: 'amd64' },
      { name: 'plain', version: '2', arch: 'all' },
      { name: 'absent', version: '1', arch: 'all' },
    ]);
    expect(got).toEqual([
      { name: 'fake', version: '1.2-3', files: [['usr/share/fake/one.txt', md5('one\n')], ['usr/share/fake/two.txt', md5('two\n')], ['usr/lib/fake/three', md5('three\n')]] },
      { name: 'plain', version: '2', files: [['usr/share/plain/p.txt', md5('p\n')]] },
    ]);
  });
});

describe('parsers', () => {
  it('reads dpkg status stanzas, installed only', () => {
    const r = parseDpkgStatus('Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nArchitecture: all\n\nPackage: b\nStatus: purge ok not-installed\nVersion: 1\n');
    expect(r).toEqual({ packages: [{ name: 'a', version: '1:2.0-1', arch: 'all' }], bad: 0 });
  });
  it('reads Gemfile.lock and refuses a dist-info METADATA without Name', () => {
    expect(parseManifest('/x/Gemfile.lock', 'GEM\n  specs:\n    rack (2.2.3)\n      foo (>= 1)\n')).toEqual([{ ecosystem: 'RubyGems', name: 'rack', version: '2.2.3', path: '/x/Gemfile.lock' }]);
    expect(() => parseManifest('/x/a.dist-info/METADATA', 'Version: 1\n')).toThrow(/no Name/);
  });
});

describe('the compact file list and the report body', () => {
  it('hashes in path order and writes the same report JSON.stringify would, names in any script included', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sigil-audit-body-'));
    dirs.push(root);
    // "b.txt" < "b/" < "b-" is not the order of names alone: path order puts "/" after "." and "-".
    for (const rel of ['srv/b/x', 'srv/b.txt', 'srv/b-c', 'srv/a/ü/ß "q".c', 'opt/z', 'srv/b/a/deep']) put(root, rel, rel);
    const unitDir = join(root, 'agents', 'unit-app-0');
    const r = await collectUnit({ unit: 'app/0', request: 1, root, unitDir, charmDir: join(unitDir, 'charm') });
    const files = r.files.toJSON();
    const paths = files.map(([p]) => p);
    expect(paths).toEqual([...paths].sort());
    expect(paths.map((p) => p.slice(root.length + 1))).toEqual(['opt/z', 'srv/a/ü/ß "q".c', 'srv/b-c', 'srv/b.txt', 'srv/b/a/deep', 'srv/b/x']);
    for (const [p, h] of files) expect(h).toBe(md5(p.slice(root.length + 1)));
    const body = JSON.parse(Buffer.concat(reportBody(r)).toString('utf8')) as Record<string, unknown>;
    expect(body).toEqual(JSON.parse(JSON.stringify(r)));
    expect(body.files).toEqual(files);
  });

  it('grows past its first allocations and writes an empty list as []', () => {
    const f = new HashedFiles();
    expect(JSON.parse(Buffer.concat(writeAll(f)).toString())).toEqual([]);
    const d = f.addDir('/srv/many');
    const digest = createHash('md5').update('x').digest();
    for (let i = 0; i < 5000; i++) f.add(d, `file-${i}-${'n'.repeat(20)}`, digest);
    const back = JSON.parse(Buffer.concat(writeAll(f)).toString()) as [string, string][];
    expect(back).toHaveLength(5000);
    expect(back[4999]).toEqual([`/srv/many/file-4999-${'n'.repeat(20)}`, md5('x')]);
  });
});

function writeAll(f: HashedFiles): Buffer[] {
  const out: Buffer[] = [];
  f.writeJson(out);
  return out;
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FingerprintIndex, findEmbedded, packagePayload, type ReleaseInfo } from './fingerprints.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** A release tree: 20 source files; 0.30 and 0.31 share the first 15, and every release carries the same licence text. */
function release(version: string): [string, string][] {
  const files: [string, string][] = [];
  for (let i = 0; i < 20; i++) files.push([`src/file${i}.c`, i < 15 ? `common source ${i}` : `source ${i} of ${version}`]);
  files.push(['COPYING', 'GNU GENERAL PUBLIC LICENSE']);
  return files;
}

function index(): FingerprintIndex {
  const releases: ReleaseInfo[] = [
    { name: 'libbar', version: '0.30', source: 'upstream' },
    { name: 'libbar', version: '0.31', source: 'upstream' },
    { name: 'other1', version: '1', source: 'upstream' },
    { name: 'other2', version: '1', source: 'upstream' },
    { name: 'other3', version: '1', source: 'upstream' },
  ];
  const entries = [
    ...release('0.30').map(([p, c]) => ({ release: 0, md5: Buffer.from(md5(c), 'hex'), path: p })),
    ...release('0.31').map(([p, c]) => ({ release: 1, md5: Buffer.from(md5(c), 'hex'), path: p })),
    ...[2, 3, 4].flatMap((r) => [['COPYING', 'GNU GENERAL PUBLIC LICENSE'], ['x.c', `other ${r}`]].map(([p, c]) => ({ release: r, md5: Buffer.from(md5(c!), 'hex'), path: p! }))),
  ];
  return FingerprintIndex.build(releases, entries);
}

const copy = (dir: string, files: [string, string][]) => files.map(([p, c]): [string, string] => [`${dir}/${p}`, md5(c)]);

describe('embedded-copy detection', () => {
  it('leaves a licence text shared by many names out of matches and totals', () => {
    const ix = index();
    expect(ix.totals[1]).toBe(20);
    expect(ix.lookup(md5('GNU GENERAL PUBLIC LICENSE'))).toEqual([]);
  });

  it('finds an exact copy under a renamed directory, with the right version', () => {
    const found = findEmbedded(index(), copy('/opt/app/vendor/bar-renamed', release('0.31')));
    expect(found).toMatchObject([{ name: 'libbar', version: '0.31', dir: '/opt/app/vendor/bar-renamed', matched: 20, total: 20, share: 100, kind: 'exact', differing: [], absent: 0 }]);
  });

  it('names the files of a modified copy that differ', () => {
    const files = release('0.31');
    files[17] = ['src/file17.c', 'patched locally'];
    const found = findEmbedded(index(), copy('/srv/x', files));
    expect(found).toMatchObject([{ name: 'libbar', version: '0.31', matched: 19, total: 20, share: 95, kind: 'modified', differing: ['src/file17.c'], absent: 0 }]);
  });

  it('calls part of a release copied unchanged a vendored subset', () => {
    const found = findEmbedded(index(), copy('/srv/y/third_party/bar', release('0.30').slice(10, 18)));
    expect(found).toMatchObject([{ name: 'libbar', version: '0.30', matched: 8, total: 20, share: 40, kind: 'subset', absent: 12 }]);
  });

  it('reports two copies in two places, and nothing for unrelated files', () => {
    const files = [...copy('/a', release('0.30')), ...copy('/b/c', release('0.31')), ['/d/random', md5('random')] as [string, string]];
    const found = findEmbedded(index(), files);
    expect(found.map((f) => `${f.dir}:${f.version}:${f.kind}`)).toEqual(['/a:0.30:exact', '/b/c:0.31:exact']);
    expect(findEmbedded(index(), [['/d/random', md5('random')]])).toEqual([]);
  });

  it('holds a hundred thousand hashes in typed arrays (the benchmark takes half a million) and looks them up', () => {
    const releases: ReleaseInfo[] = Array.from({ length: 200 }, (_, i) => ({ name: `lib${i % 100}`, version: `1.${i}`, source: 'upstream' }));
    const entries = (function* () {
      for (let r = 0; r < 200; r++) for (let f = 0; f < 500; f++) yield { release: r, md5: createHash('md5').update(`${r}:${f}`).digest(), path: `d/f${f}` };
    })();
    const ix = FingerprintIndex.build(releases, entries);
    expect(ix.entries).toBe(100_000);
    expect(ix.lookup(md5("199:499"))).toEqual([{ release: 199, path: 'd/f499', entry: expect.any(Number) }]);
  });
});

describe('packagePayload', () => {
  const h = md5('x');
  it.each<[string, string[], string[]]>([
    ['strips the directory the payload shares, leaving documentation out', ['usr/share/wordpress/index.php', 'usr/share/wordpress/wp-includes/a.php', 'usr/share/doc/wordpress/copyright', 'usr/share/lintian/overrides/wordpress'], ['index.php', 'wp-includes/a.php']],
    ['keeps what differs when files lie in several trees', ['usr/bin/tool', 'usr/lib/tool/x.so'], ['bin/tool', 'lib/tool/x.so']],
    ['keeps documentation when it is all the package holds', ['usr/share/doc/pkg/README', 'usr/share/doc/pkg/changelog.gz'], ['README', 'changelog.gz']],
    ['keeps a file\'s name when it is the only file', ['usr/share/javascript/jquery/jquery.js'], ['jquery.js']],
  ])('%s', (_what, paths, want) => {
    expect(packagePayload(paths.map((p) => [p, h])).map(([p]) => p)).toEqual(want);
  });
});

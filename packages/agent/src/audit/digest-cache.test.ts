import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIGEST_LIST_HEADER, IMAGE_DIGESTS_PATH, digestLine, parseDigestList } from '@sigil/core';
import { ensureImageDigests } from '@sigil/providers';
import { testDir } from '../../../../tests/temp.ts';
import { collectUnit } from './collect.ts';
import { DigestCache } from './digest-cache.ts';
import { Skips } from './walk.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const LATER = Date.now() + 60_000;

function put(root: string, rel: string, content: string): string {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), content);
  return join(root, rel);
}

/** A base image: one package with two files, a file outside packages, and what the list leaves out. */
function image(): string {
  const root = testDir('sigil-image-');
  put(root, 'var/lib/dpkg/status', 'Package: fake\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n');
  // Merged /usr: dpkg names lib/fake/three, which is usr/lib/fake/three through the lib link.
  put(root, 'var/lib/dpkg/info/fake:amd64.md5sums', `${md5('one\n')}  usr/share/fake/one\n${md5('two\n')}  usr/share/fake/two\n${md5('three\n')}  lib/fake/three\n`);
  put(root, 'usr/share/fake/one', 'one\n');
  put(root, 'usr/lib/fake/three', 'three\n');
  symlinkSync('usr/lib', join(root, 'lib'));
  put(root, 'usr/share/fake/two', 'two\n');
  put(root, 'usr/local/lib/tool.py', 'print(1)\n');
  put(root, 'proc/cpuinfo', 'left out\n');
  put(root, 'var/log/syslog', 'left out\n');
  return root;
}

const call = (c: DigestCache, path: string) => c.md5(path, new Skips(), 1 << 20, Buffer.alloc(1 << 20))?.toString('hex');

describe('the image digest list', () => {
  it('lists each file of the image once with its stat, leaving out what changes per machine', async () => {
    const root = image();
    const first = await ensureImageDigests(root);
    expect(first?.files).toBe(6); // dpkg's two files, the package's three, tool.py
    const text = readFileSync(join(root, IMAGE_DIGESTS_PATH), 'utf8');
    expect(text.startsWith(DIGEST_LIST_HEADER + '\n')).toBe(true);
    const list = parseDigestList(text);
    expect(list.get('/usr/share/fake/one')?.md5).toBe(md5('one\n'));
    expect(list.get('/usr/local/lib/tool.py')?.size).toBe(9);
    expect(list.get('/proc/cpuinfo')).toBeUndefined();
    expect(list.get('/var/log/syslog')).toBeUndefined();
    // Written once: a second call leaves it as it is.
    expect(await ensureImageDigests(root)).toBeUndefined();
  });

  it('round-trips paths with spaces and ignores a list of another format', () => {
    const e = { md5: md5('x'), size: 1, mtimeMs: 1733000000123.4567, ctimeMs: 1733000000999 };
    const list = parseDigestList(DIGEST_LIST_HEADER + '\n' + digestLine('/usr/a b/c d', e) + 'garbage line\n');
    expect(list.get('/usr/a b/c d')).toEqual(e);
    expect(list.size).toBe(1);
    expect(parseDigestList('sigil-digests 0\n' + digestLine('/x', e)).size).toBe(0);
  });
});

describe('DigestCache', () => {
  it('takes an unchanged image file\'s digest from the list without reading it, and reads a changed one', async () => {
    const root = image();
    await ensureImageDigests(root);
    const c = await DigestCache.load(root, undefined, LATER);
    expect(call(c, join(root, 'usr/share/fake/one'))).toBe(md5('one\n'));
    expect(call(c, join(root, 'lib/fake/three'))).toBe(md5('three\n'));
    expect([c.hits, c.hashed]).toEqual([2, 0]);
    // Same size, other content: the change time moved, so the file is read again.
    writeFileSync(join(root, 'usr/share/fake/two'), 'TWO\n');
    expect(call(c, join(root, 'usr/share/fake/two'))).toBe(md5('TWO\n'));
    expect([c.hits, c.hashed]).toEqual([2, 1]);
    // A list that lies about content it does not vouch for by stat is not believed.
    const forged = testDir('sigil-forged-');
    const path = put(forged, 'usr/x', 'real\n');
    put(forged, IMAGE_DIGESTS_PATH.slice(1), DIGEST_LIST_HEADER + '\n' + digestLine('/usr/x', { md5: md5('fake\n'), size: 5, mtimeMs: 1, ctimeMs: 1 }));
    expect(call(await DigestCache.load(forged, undefined, LATER), path)).toBe(md5('real\n'));
  });

  it('keeps what a collection read for the next one, but not a file changed within the last moments', async () => {
    const root = testDir('sigil-machine-');
    const own = join(root, 'var/lib/sigil/inventory-digests');
    const settled = put(root, 'opt/app/settled', 'a\n');
    utimesSync(settled, new Date(LATER - 3_600_000), new Date(LATER - 3_600_000));
    const fresh = put(root, 'opt/app/fresh', 'b\n');
    const first = await DigestCache.load(root, own, Date.now());
    call(first, settled);
    call(first, fresh);
    await first.save();
    const kept = parseDigestList(readFileSync(own, 'utf8'));
    // `settled`'s change time is now too (utimes sets it): only the 2 s rule decides, so both
    // were written just now and neither is kept...
    expect(kept.size).toBe(0);
    // ...until they have settled.
    const later = await DigestCache.load(root, own, LATER);
    call(later, settled);
    await later.save();
    expect([...parseDigestList(readFileSync(own, 'utf8')).paths()]).toEqual(['/opt/app/settled']);
    const third = await DigestCache.load(root, own, LATER);
    expect(call(third, settled)).toBe(md5('a\n'));
    expect([third.hits, third.hashed]).toEqual([1, 0]);
  });

  it('gives a unit\'s inventory exactly as reading every file does', async () => {
    const root = image();
    await ensureImageDigests(root);
    // The machine's life after the image: a package file modified, one removed, new files.
    writeFileSync(join(root, 'usr/share/fake/two'), 'two, by hand\n');
    put(root, 'opt/app/lib.js', 'x\n');
    const unitDir = join(root, 'var/lib/sigil/agents/unit-app-0');
    put(unitDir, 'charm/metadata.yaml', 'name: app\n');
    const target = { unit: 'app/0', request: 1, root, unitDir, charmDir: join(unitDir, 'charm') };
    const plain = await collectUnit(target);
    const cache = await DigestCache.load(root, undefined, LATER);
    const cached = await collectUnit({ ...target, md5: cache.md5 });
    // Known: the package's files but the modified one, and tool.py. Read: that one and lib.js.
    expect([cache.hits, cache.hashed]).toEqual([3, 2]);
    expect(cached.changed).toEqual([{ package: 'fake', path: '/usr/share/fake/two', state: 'modified' }]);
    expect(cached.changed).toEqual(plain.changed);
    expect(cached.files.toJSON()).toEqual(plain.files.toJSON());
    expect(cached.packages).toEqual(plain.packages);
  });
});

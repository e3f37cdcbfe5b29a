import { describe, expect, test } from 'vitest';
import { archiveCharmFiles, checkArchiveEntries, checkArchiveLink, checkArchivePath, findArchiveFile, type ArchiveEntryRef } from './archive-paths.ts';
import { sigilError } from './test-util.ts';

describe('checkArchivePath', () => {
  test.each(['metadata.yaml', 'hooks/install', 'src/a/b/c.py', '..hidden', 'a..b', '.jujuignore', 'lib/x..'])('accepts %j', (p) => {
    expect(checkArchivePath(p)).toEqual(p.split('/'));
  });

  test.each([
    ['', 'empty name'],
    ['../../x', 'climbs out'],
    ['a/../../x', 'climbs out'],
    ['hooks/..', 'climbs out'],
    ['/etc/passwd', 'absolute path'],
    ['//etc/passwd', 'absolute path'],
    ['a\\..\\..\\x', 'backslash'],
    ['a\u0000b', 'control character'],
    ['a\nb', 'control character'],
    ['a//b', 'empty or "." component'],
    ['./a', 'empty or "." component'],
    ['dir/', 'empty or "." component'],
    ['x'.repeat(5000), 'longer than'],
  ])('refuses %j', (p, why) => {
    const e = sigilError(() => checkArchivePath(p));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain(why);
    expect(e.message).toContain(JSON.stringify(p.slice(0, 200)).slice(0, 50));
    expect(e.hint).toMatch(/relative paths inside the charm/);
  });
});

describe('checkArchiveLink', () => {
  test.each([
    ['hooks/install', '../src/charm.py', 'src/charm.py'],
    ['hooks/config-changed', 'install', 'hooks/install'],
    ['hooks/x', './install', 'hooks/install'],
    ['a/b/c', '../../d', 'd'],
    ['a/b', '.', 'a'],
    ['lib', 'vendor/lib/', 'vendor/lib'],
  ])('accepts %s -> %s', (path, target, at) => {
    expect(checkArchiveLink(path, target)).toBe(at);
  });

  test.each([
    ['stolen', '/home/u/.local/share/sigil/accounts.yaml', 'absolute target'],
    ['shadow', '/etc/shadow', 'absolute target'],
    ['up', '..', 'points outside the charm'],
    ['hooks/install', '../../etc/shadow', 'points outside the charm'],
    ['a/b', 'c/../../..', '".." after a directory name'],
    ['a', '', 'empty target'],
    ['a', 'x\\y', 'backslash'],
    ['a', 'x\u0000', 'control character'],
  ])('refuses %s -> %j', (path, target, why) => {
    const e = sigilError(() => checkArchiveLink(path, target));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain(`symlink "${path}"`);
    expect(e.message).toContain(why);
    expect(e.hint).toMatch(/point inside the charm/);
  });
});

describe('checkArchiveEntries', () => {
  test('accepts a charm with hook links', () => {
    expect(() => checkArchiveEntries([
      { path: 'metadata.yaml' }, { path: 'src/charm.py' }, { path: 'hooks/install', link: '../src/charm.py' }, { path: 'hooks/start', link: 'install' },
    ])).not.toThrow();
  });

  test.each([
    [[{ path: 'a' }, { path: 'a' }], 'appears more than once'],
    [[{ path: 'lib', link: 'src' }, { path: 'lib/x' }], 'lies beneath the symlink "lib"'],
    [[{ path: 'a' }, { path: 'a/b' }], 'lies beneath the file "a"'],
    [[{ path: 'ok' }, { path: '../../x' }], 'climbs out'],
    [[{ path: 'shadow', link: '/etc/shadow' }], 'absolute target'],
  ] as [ArchiveEntryRef[], string][])('refuses %j', (entries, why) => {
    expect(sigilError(() => checkArchiveEntries(entries)).message).toContain(why);
  });

  // A link to a directory link, then ".." from there, would leave the root on disk though the
  // text of each target looks contained; the ".."-after-a-name rule closes that.
  test('no chain of individually contained links escapes', () => {
    expect(() => checkArchiveEntries([{ path: 'd/e', link: '..' }, { path: 'a', link: 'd/e' }, { path: 'b', link: 'a/..' }])).toThrow(/after a directory name/);
  });
});

describe('findArchiveFile', () => {
  const entries: ArchiveEntryRef[] = [
    { path: 'src/metadata.yaml' }, { path: 'metadata.yaml', link: 'meta' }, { path: 'meta', link: 'srcdir/metadata.yaml' }, { path: 'srcdir', link: 'src' },
    { path: 'loop1', link: 'loop2' }, { path: 'loop2', link: 'loop1' }, { path: 'dangling', link: 'nowhere' }, { path: 'dirlink', link: 'src' },
  ];

  test('follows links, including through directories', () => {
    expect(findArchiveFile(entries, 'metadata.yaml')?.path).toBe('src/metadata.yaml');
    expect(findArchiveFile(entries, 'src/metadata.yaml')?.path).toBe('src/metadata.yaml');
  });

  test('a dangling link or a directory is no file', () => {
    expect(findArchiveFile(entries, 'dangling')).toBeUndefined();
    expect(findArchiveFile(entries, 'dirlink')).toBeUndefined();
    expect(findArchiveFile(entries, 'missing')).toBeUndefined();
  });

  test('a loop is a clean error', () => {
    const e = sigilError(() => findArchiveFile(entries, 'loop1'));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toMatch(/symlink "loop[12]" is part of a loop/);
  });

  test('archiveCharmFiles reads the charm files through links', () => {
    const text = (e: ArchiveEntryRef) => `text of ${e.path}`;
    expect(archiveCharmFiles(entries, text)).toEqual({ metadata: 'text of src/metadata.yaml' });
  });
});

// The CLI's charm reader against real temp directories and real zip files (adm-zip).
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SigilError } from '@sigil/core';
import { packCharm, readCharmArchive, readCharmDir } from './charm-dir.ts';

const META = 'name: linky\nsummary: s\ndescription: d\n';

let top: string;
let charm: string;
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'sigil-charm-dir-'));
  charm = join(top, 'charm');
  mkdirSync(join(charm, 'src'), { recursive: true });
  mkdirSync(join(charm, 'hooks'));
  writeFileSync(join(charm, 'metadata.yaml'), META);
  writeFileSync(join(charm, 'src', 'charm.py'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  // What must never leave the machine: stands in for $SIGIL_HOME/accounts.yaml and /etc/shadow.
  writeFileSync(join(top, 'accounts.yaml'), 'token: secret-admin-token\n');
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

function refused(fn: () => unknown): SigilError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SigilError) return e;
    throw e;
  }
  throw new Error('expected a SigilError');
}

/**
 * A zip written with adm-zip; `link` entries carry S_IFLNK in their external attributes. Names
 * are set after adding, since addFile tidies `..` and leading slashes away and a hostile zip
 * (like Python's zipfile writes them) keeps them.
 */
function zipOf(entries: { name: string; text: string; link?: boolean }[]): string {
  const zip = new AdmZip();
  entries.forEach((e, i) => {
    zip.addFile(`entry-${i}`, Buffer.from(e.text), '', 0o644);
    const entry = zip.getEntry(`entry-${i}`)!;
    entry.entryName = e.name;
    if (e.link) entry.attr = (0o120777 << 16) >>> 0;
  });
  const file = join(top, `c-${Math.random().toString(36).slice(2)}.charm`);
  zip.writeZip(file);
  return file;
}

describe('readCharmArchive', () => {
  test('refuses an entry that climbs out with ..', () => {
    const file = zipOf([{ name: 'metadata.yaml', text: META }, { name: '../../x', text: 'pwned' }]);
    expect(new AdmZip(file).getEntries().map((e) => e.entryName)).toContain('../../x');
    for (const read of [readCharmArchive, readCharmDir]) {
      const e = refused(() => read(file));
      expect(e.code).toBe('invalid-charm');
      expect(e.message).toContain('"../../x"');
      expect(e.message).toContain('climbs out of the charm');
      expect(e.hint).toMatch(/relative paths inside the charm/);
    }
  });

  test('refuses an absolute entry', () => {
    const file = zipOf([{ name: 'metadata.yaml', text: META }, { name: '/etc/cron.d/x', text: 'pwned' }]);
    const e = refused(() => readCharmArchive(file));
    expect(new AdmZip(file).getEntries().map((x) => x.entryName)).toContain('/etc/cron.d/x');
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain('"/etc/cron.d/x" is an absolute path');
  });

  test('keeps symlink entries as links and reads metadata through one', () => {
    const file = zipOf([
      { name: 'src/metadata.yaml', text: META }, { name: 'metadata.yaml', text: 'src/metadata.yaml', link: true },
      { name: 'hooks/install', text: '../src/charm.py', link: true },
    ]);
    const { charm: c, archive } = readCharmArchive(file);
    expect(c.meta.name).toBe('linky');
    expect(archive.files.find((f) => f.path === 'hooks/install')).toEqual({ path: 'hooks/install', mode: 0o777, data: '', link: '../src/charm.py' });
  });

  test.each([['/etc/shadow', 'absolute target'], ['../../etc/shadow', 'points outside the charm']])('refuses a symlink entry to %s', (target, why) => {
    const e = refused(() => readCharmArchive(zipOf([{ name: 'metadata.yaml', text: META }, { name: 'hooks/shadow', text: target, link: true }])));
    expect(e.message).toContain('symlink "hooks/shadow"');
    expect(e.message).toContain(why);
  });
});

describe('readCharmDir', () => {
  test('keeps links inside the charm as links, not copies', () => {
    symlinkSync('../src/charm.py', join(charm, 'hooks', 'install'));
    symlinkSync('install', join(charm, 'hooks', 'config-changed'));
    symlinkSync(join(charm, 'src', 'charm.py'), join(charm, 'hooks', 'start'));
    const { archive } = readCharmDir(charm);
    const byPath = Object.fromEntries(archive.files.map((f) => [f.path, f]));
    expect(byPath['hooks/install']).toEqual({ path: 'hooks/install', mode: 0o777, data: '', link: '../src/charm.py' });
    expect(byPath['hooks/config-changed']?.link).toBe('install');
    // An absolute link into the charm becomes relative: the charm is unpacked elsewhere.
    expect(byPath['hooks/start']?.link).toBe('../src/charm.py');
    expect(byPath['src/charm.py']?.mode).toBe(0o755);
  });

  test.each([
    ['stolen', () => join(top, 'accounts.yaml')],
    ['shadow', () => '/etc/shadow'],
    ['hooks/up', () => '../../accounts.yaml'],
    ['src/far', () => '../../../../../../../../etc/shadow'],
  ])('refuses the link %s pointing outside, naming it, without reading it', (name, target) => {
    symlinkSync(target(), join(charm, name));
    const e = refused(() => readCharmDir(charm));
    expect(e.code).toBe('invalid-charm');
    expect(e.message).toContain(`symlink "${name}"`);
    expect(e.message).toContain('outside the charm');
    expect(e.message).not.toContain('secret-admin-token');
    expect(e.hint).toMatch(/point inside the charm/);
  });

  test('refuses metadata.yaml linked from outside rather than reading it', () => {
    rmSync(join(charm, 'metadata.yaml'));
    symlinkSync(join(top, 'accounts.yaml'), join(charm, 'metadata.yaml'));
    expect(refused(() => readCharmDir(charm)).message).toContain('symlink "metadata.yaml" points outside the charm');
  });

  test('dangling links and loops inside the charm are kept as links, not errors', () => {
    symlinkSync('nowhere', join(charm, 'dangling'));
    symlinkSync('loop2', join(charm, 'loop1'));
    symlinkSync('loop1', join(charm, 'loop2'));
    symlinkSync('.', join(charm, 'self'));
    const links = Object.fromEntries(readCharmDir(charm).archive.files.filter((f) => f.link !== undefined).map((f) => [f.path, f.link]));
    expect(links).toEqual({ dangling: 'nowhere', loop1: 'loop2', loop2: 'loop1', self: '.' });
  });

  test('a metadata.yaml link loop is a clean error', () => {
    rmSync(join(charm, 'metadata.yaml'));
    symlinkSync('metadata.yaml', join(charm, 'metadata.yaml'));
    const e = refused(() => readCharmDir(charm));
    expect(e.message).toContain('is part of a loop');
  });

  test('ignored directories are not judged (a .venv links out to the system python)', () => {
    mkdirSync(join(charm, '.venv', 'bin'), { recursive: true });
    symlinkSync('/usr/bin/python3', join(charm, '.venv', 'bin', 'python3'));
    expect(readCharmDir(charm).archive.files.map((f) => f.path)).not.toContain('.venv/bin/python3');
  });

  test('a TypeScript charm with an escaping link is refused before the build reads it', () => {
    writeFileSync(join(charm, 'src', 'charm.ts'), "import secret from './secret.json';\nexport default secret;\n");
    symlinkSync(join(top, 'accounts.yaml'), join(charm, 'src', 'secret.json'));
    expect(refused(() => readCharmDir(charm)).message).toContain('symlink "src/secret.json" points outside the charm');
    expect(existsSync(join(charm, 'dist'))).toBe(false);
    expect(existsSync(join(charm, 'src', 'charm.gen.ts'))).toBe(false);
  });
});

describe('packCharm', () => {
  test('keeps links as zip symlink entries that read back as links', () => {
    symlinkSync('../src/charm.py', join(charm, 'hooks', 'install'));
    const { file } = packCharm(charm, join(top, 'out.charm'));
    const entry = new AdmZip(file).getEntry('hooks/install')!;
    expect((entry.attr >>> 16) & 0o170000).toBe(0o120000);
    expect(entry.getData().toString()).toBe('../src/charm.py');
    const back = readCharmArchive(file).archive.files.find((f) => f.path === 'hooks/install');
    expect(back).toEqual({ path: 'hooks/install', mode: 0o777, data: '', link: '../src/charm.py' });
    expect(readCharmArchive(file).archive.files.find((f) => f.path === 'src/charm.py')?.mode).toBe(0o755);
  });
});

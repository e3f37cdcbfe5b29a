import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CharmArchive, GuiCharmSummary } from '@sigil/api';
import { SigilError } from '@sigil/core';
import { readBundle, type LibraryLookup } from './read.ts';
import { pickRevision } from '../commands/charms.ts';
import { suiteDir } from '../../../../tests/temp.ts';

const meta = (name: string) => `name: ${name}\nsummary: s\ndescription: d\n`;
const archive = (name: string): CharmArchive => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(meta(name)).toString('base64') }] });

describe('readBundle with library charms', () => {
  const dir = suiteDir('sigil-read-');
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'metadata.yaml'), meta('app'));

  test('bare names come from the library (once per name and revision); paths from disk', async () => {
    writeFileSync(join(dir, 'b.yaml'), 'applications:\n  db: {charm: sink, revision: 1}\n  db2: {charm: sink, revision: 1}\n  web: {charm: ./app}\n');
    const asked: string[] = [];
    const lookup: LibraryLookup = async (app, name, revision) => {
      asked.push(`${app}:${name}@${revision}`);
      return { archive: archive(name), source: '/lib/sink' };
    };
    const read = await readBundle(join(dir, 'b.yaml'), [], lookup);
    expect(asked).toEqual(['db:sink@1']);
    expect(read.bundle.applications['db']?.charm).toBe('library:sink@1');
    expect(read.charms['db']).toMatchObject({ path: 'library:sink@1', source: 'sink' });
    expect(read.charms['db']?.charm.meta.name).toBe('sink');
    expect(read.charms['db2']).toBe(read.charms['db']);
    expect(read.charms['web']?.charm.meta.name).toBe('app');
    expect(read.charms['web']?.source).toBeUndefined();
  });

  test('an unknown name fails with what the lookup says', async () => {
    writeFileSync(join(dir, 'c.yaml'), 'applications:\n  db: {charm: nosuch}\n');
    const lookup: LibraryLookup = async (app, name) => {
      throw new SigilError('not-found', `application "${app}": no charm "${name}" in the controller's charm library`, 'see `sigil charms`');
    };
    await expect(readBundle(join(dir, 'c.yaml'), [], lookup)).rejects.toThrow(/c\.yaml:2: application "db": no charm "nosuch"/);
  });
});

describe('pickRevision', () => {
  const hit: GuiCharmSummary = { id: 'library/sink', name: 'sink', summary: '', source: 'library', interfaces: [], revisions: [{ revision: 2, id: 'controller/b' }, { revision: 0, id: 'controller/a' }] };
  test('no revision: the library entry; a revision: its upload', () => {
    expect(pickRevision(hit, undefined)).toEqual({ id: 'library/sink', source: 'library' });
    expect(pickRevision(hit, 0)).toEqual({ id: 'controller/a', source: 'controller', revision: 0 });
  });
  test('an unknown revision lists those there are', () => {
    let err: SigilError | undefined;
    try {
      pickRevision(hit, 5);
    } catch (e) {
      err = e as SigilError;
    }
    expect(err?.message).toBe('charm "sink" has no revision 5');
    expect(err?.hint).toMatch(/revisions there are: 0, 2/);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { CharmArchive } from '@sigil/api';
import { archiveProvenance, provenanceDoc } from './charm-provenance.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const file = (path: string, text: string): CharmArchive['files'][number] => ({ path, mode: 0o644, data: Buffer.from(text).toString('base64') });
const info = (hashes: Record<string, string>, url = 'git+file:///srv/charms/django;revno=3f2a9c1e') =>
  `collect_date: '2026-12-06 01:02:03.456000'\ncollect_url: ${url}\nhashes:\n${Object.entries(hashes).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`;

describe('archiveProvenance', () => {
  const files = [file('metadata.yaml', 'name: django\n'), file('hooks/install', '#!/bin/sh\n')];
  const hashes = { 'metadata.yaml': sha('name: django\n'), 'hooks/install': sha('#!/bin/sh\n') };

  test('an untouched collected charm matches, with URL, commit and date', () => {
    const p = archiveProvenance({ files: [...files, file('codetree-collect-info.yaml', info(hashes)), file('.git/HEAD', 'x')] });
    expect(p).toEqual({ source: 'git+file:///srv/charms/django', url: 'git+file:///srv/charms/django;revno=3f2a9c1e', commit: '3f2a9c1e', collected: '2026-12-06 01:02:03.456000', files: 2, matches: true, modified: [], missing: [] });
    expect(provenanceDoc(p!)).toMatchObject({ commit: '3f2a9c1e', 'collected-at': '2026-12-06 01:02:03.456000', matches: true });
  });

  test('a changed file is modified and an absent one missing; a sha256 pin is a digest', () => {
    const p = archiveProvenance({ files: [file('metadata.yaml', 'name: django\n# tampered\n'), file('codetree-collect-info.yaml', info({ ...hashes, 'README.md': sha('r') }, 'file:///srv/app;sha256=abc'))] });
    expect(p).toMatchObject({ source: 'file:///srv/app', digest: 'abc', matches: false, modified: ['metadata.yaml'], missing: ['README.md', 'hooks/install'] });
    expect(p!.commit).toBeUndefined();
  });

  test('a link to a file is hashed through', () => {
    const p = archiveProvenance({ files: [...files, { path: 'hooks/start', mode: 0o777, data: '', link: 'install' }, file('codetree-collect-info.yaml', info({ ...hashes, 'hooks/start': sha('#!/bin/sh\n') }))] });
    expect(p).toMatchObject({ matches: true, files: 3 });
  });

  test.each([
    ['no collect-info', undefined],
    ['bad YAML', 'collect_url: [unclosed\n'],
    ['no collect_url', 'hashes: {a: b}\n'],
    ['hashes not a map', 'collect_url: file:///x\nhashes: [a]\n'],
    ['not a map at all', '- a\n'],
  ])('%s gives no provenance, never an error', (_name, text) => {
    expect(archiveProvenance({ files: [...files, ...(text === undefined ? [] : [file('codetree-collect-info.yaml', text)])] })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { HASHES_MARK, provenanceOf, renderProvenance } from './provenance.ts';
import { renderCollectInfo, sha256 } from './tree.ts';

const info = renderCollectInfo({
  collect_date: '2026-12-05 18:47:40.123000',
  collect_url: 'git+file:///srv/git/sink.git;revno=91490b7daf7511a717f75f62b57fc3f97cc6d740',
  hashes: { 'metadata.yaml': sha256('name: sink\n'), 'hooks/install': sha256('#!/bin/sh\n'), 'README.md': sha256('readme') },
});

describe('charm provenance from collect-info', () => {
  it('reads the source and commit, and finds modified and missing files', () => {
    const listing = [`${sha256('name: sink\n# local edit\n')}  ./metadata.yaml`, `${sha256('#!/bin/sh\n')}  ./hooks/install`, `${sha256('x')}  ./extra-file`].join('\n');
    const p = provenanceOf('sink/0', `${info}${HASHES_MARK}\n${listing}\n`);
    expect(p).toEqual({
      unit: 'sink/0',
      collected: true,
      source: 'git+file:///srv/git/sink.git',
      collect_url: 'git+file:///srv/git/sink.git;revno=91490b7daf7511a717f75f62b57fc3f97cc6d740',
      commit: '91490b7daf7511a717f75f62b57fc3f97cc6d740',
      collect_date: '2026-12-05 18:47:40.123000',
      files: 3,
      modified: ['metadata.yaml'],
      missing: ['README.md'],
      matches: false,
    });
    expect(renderProvenance([p])).toContain('files:      3 recorded; 1 modified, 1 missing\n    modified: metadata.yaml\n    missing:  README.md');
  });

  it('says so when a charm carries no collect-info', () => {
    const p = provenanceOf('db/0', `${HASHES_MARK}\n`);
    expect(p).toEqual({ unit: 'db/0', collected: false });
    expect(renderProvenance([p])).toContain('db/0: no collect-info');
  });

  it('writes collect-info in Codetree\'s layout', () => {
    expect(info).toBe(`collect_date: '2026-12-05 18:47:40.123000'\ncollect_url: git+file:///srv/git/sink.git;revno=91490b7daf7511a717f75f62b57fc3f97cc6d740\nhashes:\n  README.md: ${sha256('readme')}\n  hooks/install: ${sha256('#!/bin/sh\n')}\n  metadata.yaml: ${sha256('name: sink\n')}\n`);
  });
});

// The charm build cache (issue 21): an unchanged charm is not rebuilt; any change to an input
// the build read, or to the output, builds again.
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCharm, isPartialBuild, sigilRoot } from './build.ts';

const work = mkdtempSync(join(tmpdir(), 'sigil-build-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('buildCharm with a cache', () => {
  it('skips an unchanged build and builds again when an input or the output changes', () => {
    const dir = join(work, 'memcached');
    cpSync(join(sigilRoot(), 'charms', 'memcached'), dir, { recursive: true, filter: (p) => !p.includes('/dist') });
    const cacheDir = join(work, 'cache');
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    const output = readFileSync(join(dir, 'dist', 'charm.mjs'), 'utf8');
    expect(buildCharm(dir, { cacheDir }).built).toBe(false);
    expect(readFileSync(join(dir, 'dist', 'charm.mjs'), 'utf8')).toBe(output);
    // An input's mtime moves (an edit, a checkout): build.
    const earlier = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'src', 'settings.ts'), earlier, earlier);
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    expect(buildCharm(dir, { cacheDir }).built).toBe(false);
    // Its content changes: build, and the output says so.
    writeFileSync(join(dir, 'src', 'settings.ts'), readFileSync(join(dir, 'src', 'settings.ts'), 'utf8').replace('-m ${s.size}', '-m ${s.size} ') + '\n');
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    expect(readFileSync(join(dir, 'dist', 'charm.mjs'), 'utf8')).toContain('-m ${s.size} ');
    // The output is edited or removed: build.
    writeFileSync(join(dir, 'dist', 'charm.mjs'), '// stale\n');
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    rmSync(join(dir, 'dist', 'charm.mjs'));
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    // The metadata changes (charm.gen.ts is regenerated): build.
    writeFileSync(join(dir, 'config.yaml'), readFileSync(join(dir, 'config.yaml'), 'utf8').replace('default: 768', 'default: 769'));
    expect(buildCharm(dir, { cacheDir }).built).toBe(true);
    // Without a cache, always.
    expect(buildCharm(dir).built).toBe(true);
  });

  it('replaces the output whole: a deploy reading it meanwhile has the old file or the new one, never half of one', () => {
    const dir = join(work, 'haproxy');
    cpSync(join(sigilRoot(), 'charms', 'haproxy'), dir, { recursive: true, filter: (p) => !p.includes('/dist') });
    buildCharm(dir);
    const output = join(dir, 'dist', 'charm.mjs');
    const before = readFileSync(output, 'utf8');
    const reader = openSync(output, 'r');
    try {
      const inode = statSync(output).ino;
      writeFileSync(join(dir, 'src', 'charm.ts'), readFileSync(join(dir, 'src', 'charm.ts'), 'utf8').replace("maintenance('installing haproxy')", "maintenance('installing haproxy, changed')"));
      expect(buildCharm(dir).built).toBe(true);
      // A new file took the name; the one a reader had open is whole and unchanged.
      expect(statSync(output).ino).not.toBe(inode);
      expect(readFileSync(reader, 'utf8')).toBe(before);
      expect(readFileSync(output, 'utf8')).toContain('installing haproxy, changed');
    } finally {
      closeSync(reader);
    }
    expect(readdirSync(join(dir, 'dist')).filter(isPartialBuild)).toEqual([]);
    expect(isPartialBuild(`charm.mjs.partial-${process.pid}`)).toBe(true);
  });
});

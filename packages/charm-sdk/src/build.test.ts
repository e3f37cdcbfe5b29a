// The charm build cache (issue 21): an unchanged charm is not rebuilt; any change to an input
// the build read, or to the output, builds again.
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCharm, sigilRoot } from './build.ts';

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
});

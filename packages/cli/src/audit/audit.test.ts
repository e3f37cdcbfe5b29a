import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { UnitInventory } from '@sigil/api';
import { compareDebian, compareGeneric } from './versions.ts';
import { affectedBy, checkAdvisories, loadAdvisories } from './osv.ts';
import { matches, parseQuery, softwareOf } from './query.ts';
import { cyclonedxJson, spdxJson } from './sbom.ts';
import { releaseFiles } from './release-files.ts';
import { cyclonedxValidator } from '../../../../tests/cyclonedx-schema.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sigil-audit-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const inv = (unit: string, embeddedVersion: string): UnitInventory => ({
  unit, machine: '0', collectedAt: Date.UTC(2026, 11, 5), ms: 10,
  packages: [{ name: 'libssl3', version: '3.0.11-1~deb12u2', arch: 'amd64', source: 'openssl' }, { name: 'wordpress', version: '6.1.1+dfsg1-1', arch: 'all' }],
  changed: [{ package: 'wordpress', path: '/usr/share/wordpress/wp-login.php', state: 'modified' }],
  charm: { files: 4, collected: false, modified: [], missing: [] },
  language: [{ ecosystem: 'npm', name: '@scope/left-pad', version: '1.1.3', path: '/srv/node_modules/@scope/left-pad/package.json' }],
  embedded: [{ name: 'libmemcached', version: embeddedVersion, dir: '/opt/app/vendor/memc', matched: 312, total: 315, share: 99, kind: 'modified', differing: ['libmemcached/io.c'], absent: 2, source: 'upstream', evidence: ['/opt/app/vendor/memc/libmemcached/hash.c'] }],
  roots: ['/opt'], filesHashed: 400, skipped: { count: 0, byReason: {}, samples: [] },
});

describe('versions', () => {
  it('orders Debian versions as dpkg does', () => {
    expect(compareDebian('1.0~rc1-1', '1.0-1')).toBe(-1);
    expect(compareDebian('1:0.9', '2.0')).toBe(1);
    expect(compareDebian('3.0.11-1~deb12u2', '3.0.11-1')).toBe(-1);
    expect(compareDebian('1.2.10', '1.2.9')).toBe(1);
    expect(compareDebian('1.0a', '1.0+')).toBe(-1);
  });
  it('orders other versions with pre-releases first', () => {
    expect(compareGeneric('0.31', '0.41')).toBe(-1);
    expect(compareGeneric('v1.10.0', '1.9.9')).toBe(1);
    expect(compareGeneric('1.0.0-rc1', '1.0.0')).toBe(-1);
    expect(compareGeneric('2.0.0rc1', '2.0.0')).toBe(-1);
    expect(compareGeneric('1.0.0+build5', '1.0.0')).toBe(0);
  });
});

describe('audit find', () => {
  it('finds packaged (by source name too), language and embedded software with a version bound', () => {
    const all = [inv('app/0', '0.31'), inv('app/1', '0.45')].flatMap(softwareOf);
    expect(all.filter((f) => matches(parseQuery('libmemcached<0.41'), f)).map((f) => `${f.unit} ${f.kind}`)).toEqual(['app/0 embedded']);
    expect(all.filter((f) => matches(parseQuery('openssl<=3.0.11-1'), f)).map((f) => f.name)).toEqual(['libssl3', 'libssl3']);
    expect(all.filter((f) => matches(parseQuery('@scope/left-pad'), f))).toHaveLength(2);
    expect(() => parseQuery('bad name!')).toThrow(/NAME/);
  });
});

describe('OSV advisories, offline', () => {
  it('walks ranges as OSV describes them', () => {
    const af = { package: { name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.41' }] }] };
    expect(affectedBy('', '0.31', af)).toEqual({ affected: true, fixed: '0.41' });
    expect(affectedBy('', '0.41', af)).toEqual({ affected: false });
    const last = { ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.2.0' }] }] };
    expect(affectedBy('', '1.2.0', last).affected).toBe(true);
    expect(affectedBy('', '1.2.1', last).affected).toBe(false);
    expect(affectedBy('', '0.9', last).affected).toBe(false);
    expect(affectedBy('', '5', { versions: ['5'] }).affected).toBe(true);
  });

  it('lists exactly the affected units with evidence and the fixed version, skipping what is not an advisory', () => {
    const dir = join(tmp, 'osv');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'memc.json'), JSON.stringify({ id: 'OSV-2026-1', summary: 'overflow', affected: [{ package: { ecosystem: 'OSS-Fuzz', name: 'libmemcached' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.41' }] }] }] }));
    writeFileSync(join(dir, 'sub', 'deb.json'), JSON.stringify({ vulns: [{ id: 'DSA-1', affected: [{ package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] }] }] }, { id: 'GHSA-x', affected: [{ package: { ecosystem: 'npm', name: '@scope/left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '2.0.0' }] }] }] }] }));
    writeFileSync(join(dir, 'junk.json'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ id: 'X', affected: 'everything' }));
    writeFileSync(join(dir, 'noid.json'), JSON.stringify([{ affected: [] }, { id: 'Y', affected: [{ package: { name: 'a' }, ranges: [{ events: [{ fixed: 3 }] }] }] }]));
    const loaded = loadAdvisories(dir);
    expect(loaded.advisories.map((a) => a.id).sort()).toEqual(['DSA-1', 'GHSA-x', 'OSV-2026-1']);
    expect(loaded.skipped.map((s) => s.reason).sort()).toEqual([
      'not JSON',
      'not an OSV advisory: X: no "affected" list',
      'not an OSV advisory: Y: a range\'s "events" are not a list of {introduced|fixed|last_affected: version}',
      'not an OSV advisory: no "id"',
    ]);
    const hits = checkAdvisories(loaded.advisories, [inv('app/0', '0.31'), inv('app/1', '0.45')]);
    expect(hits.map((h) => [h.advisory, h.unit, h.kind, h.name, h.version, h.fixed])).toEqual([
      ['DSA-1', 'app/0', 'deb', 'libssl3', '3.0.11-1~deb12u2', '3.0.13-1~deb12u1'],
      ['DSA-1', 'app/1', 'deb', 'libssl3', '3.0.11-1~deb12u2', '3.0.13-1~deb12u1'],
      ['OSV-2026-1', 'app/0', 'embedded', 'libmemcached', '0.31', '0.41'],
    ]);
    expect(hits[2]!.evidence).toBe('/opt/app/vendor/memc (312/315 files, 99 %, modified copy: 1 files differ)');
    expect(() => loadAdvisories(join(tmp, 'absent'))).toThrow(/no advisory file/);
  });
});

describe('SBOM', () => {
  it('is CycloneDX 1.6 JSON that validates against the schema shipped with the CycloneDX library, embedded copies included', () => {
    const text = cyclonedxJson({ kind: 'application', name: 'app', model: 'm' }, [inv('app/0', '0.31')]);
    const bom = JSON.parse(text) as { bomFormat: string; specVersion: string; components: { name: string; components: { name: string; purl: string; properties?: { name: string; value: string }[] }[] }[] };
    const { validate, errors } = cyclonedxValidator();
    expect(validate(bom), errors()).toBe(true);
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
    const unit = bom.components.find((c) => c.name === 'app/0')!;
    const memc = unit.components.find((c) => c.name === 'libmemcached')!;
    expect(memc.purl).toBe('pkg:generic/libmemcached@0.31');
    expect(memc.properties).toEqual(expect.arrayContaining([{ name: 'sigil:embedded:share', value: '99' }, { name: 'sigil:embedded:differs', value: 'libmemcached/io.c' }]));
    expect(unit.components.find((c) => c.name === '@scope/left-pad')!.purl).toBe('pkg:npm/%40scope/left-pad@1.1.3');
    // A broken document does not validate: the check can fail.
    expect(validate({ ...bom, specVersion: 7 })).toBe(false);
  });

  it('is SPDX 2.3 JSON with purls and CONTAINS relationships', () => {
    const doc = JSON.parse(spdxJson({ kind: 'unit', name: 'app/0', model: 'm' }, [inv('app/0', '0.31')])) as { spdxVersion: string; packages: { SPDXID: string; name: string; externalRefs?: { referenceLocator: string }[] }[]; relationships: { relationshipType: string }[] };
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    expect(doc.packages.map((p) => p.name)).toEqual(['app/0', 'libssl3', 'wordpress', '@scope/left-pad', 'libmemcached']);
    expect(new Set(doc.packages.map((p) => p.SPDXID)).size).toBe(5);
    expect(doc.relationships.filter((r) => r.relationshipType === 'CONTAINS')).toHaveLength(4);
  });
});

describe('index sources', () => {
  it('hashes a tarball from inside its top directory, and refuses what is not a release', () => {
    const src = join(tmp, 'libfoo-0.31');
    mkdirSync(join(src, 'src'), { recursive: true });
    writeFileSync(join(src, 'src', 'a.c'), 'a');
    writeFileSync(join(src, 'README'), 'r');
    execFileSync('tar', ['-czf', join(tmp, 'libfoo-0.31.tar.gz'), '-C', tmp, 'libfoo-0.31']);
    expect(releaseFiles(join(tmp, 'libfoo-0.31.tar.gz')).files.map(([p]) => p)).toEqual(['README', 'src/a.c']);
    expect(releaseFiles(src).files).toHaveLength(2);
    writeFileSync(join(tmp, 'junk.tar.gz'), 'not a tarball');
    expect(() => releaseFiles(join(tmp, 'junk.tar.gz'))).toThrow(/cannot unpack/);
    expect(() => releaseFiles(join(tmp, 'README.txt'))).toThrow(/nothing at/);
  });
});

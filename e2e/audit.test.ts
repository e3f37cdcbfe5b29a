// Software inventory end to end (issue 19) on the shared local-process controller: a
// machine there is a directory, so the test gives it a small dpkg database (a package whose
// installed file was then edited) and drops a copy of an indexed release, renamed and with
// one file changed, into the unit's directory. The agent collects through the real path
// (CLI → controller → machine view → agent → report), and the test checks what `audit
// show`, `status`, `audit sbom` (validated against the CycloneDX schema), `audit find` and
// `audit check` (OSV, offline) say, and that bad input is skipped and counted.
// The same on an LXC machine with Debian's WordPress: e2e/stack-wordpress.test.ts (its audit checks, on the wordpress bundle).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnitInventory } from '@sigil/api';
import { CHARMS, controllerEntry, freshModel, ok, sigil, status, until, workload } from './harness.ts';
import { cyclonedxValidator } from '../tests/cyclonedx-schema.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sigil-audit-e2e-'));
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
let m: string;
let machineDir: string;

function put(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** libfoo 0.31: 20 source files and a README, as its upstream tarball holds them. */
const libfoo = Array.from({ length: 20 }, (_, i): [string, string] => [`src/part${i}.c`, `/* libfoo 0.31 part ${i} */\nint part${i}(void) { return ${i}; }\n`]);

beforeAll(async () => {
  m = await freshModel('audit');
  await ok(['deploy', join(CHARMS, 'source'), '-m', m, '--config', 'token=t']);
  await until(m, 'source active', (s) => workload(s, 'source/0') === 'active token=t', 90_000);
  const machine = (await status(m)).applications.source!.units!['source/0']!.machine!;
  machineDir = join(controllerEntry('e2e').dir, 'machines', m.split(':')[1]!, machine);
  // The machine's dpkg database: fakepkg ships two files; one was edited after installing.
  put(join(machineDir, 'var/lib/dpkg/status'), 'Package: fakepkg\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\n\n');
  put(join(machineDir, 'var/lib/dpkg/info/fakepkg.md5sums'), `${md5('a\n')}  usr/share/fakepkg/a.txt\n${md5('b\n')}  usr/share/fakepkg/b.txt\n`);
  put(join(machineDir, 'usr/share/fakepkg/a.txt'), 'a\n');
  put(join(machineDir, 'usr/share/fakepkg/b.txt'), 'b, edited by hand\n');
  // The release tarball, indexed; a renamed copy with one file changed in the unit's directory.
  for (const [p, c] of libfoo) put(join(scratch, 'libfoo-0.31', p), c);
  put(join(scratch, 'libfoo-0.31', 'README'), 'libfoo 0.31\n');
  execFileSync('tar', ['-czf', join(scratch, 'libfoo-0.31.tar.gz'), '-C', scratch, 'libfoo-0.31']);
  const unitDir = join(machineDir, 'agents', 'unit-source-0');
  for (const [p, c] of libfoo) put(join(unitDir, 'vendor', 'memc-renamed', p), p === 'src/part7.c' ? '/* patched */\n' : c);
  put(join(unitDir, 'vendor', 'memc-renamed', 'README'), 'libfoo 0.31\n');
  // Bad input: a link loop, a link out of the machine, a node_modules manifest of binary junk.
  mkdirSync(join(unitDir, 'loop'), { recursive: true });
  symlinkSync(join(unitDir, 'loop'), join(unitDir, 'loop', 'again'));
  symlinkSync('/etc', join(unitDir, 'loop', 'host-etc'));
  put(join(unitDir, 'app', 'node_modules', 'junk', 'package.json'), Buffer.from([0x00, 0xff, 0x7b, 0x01]));
  put(join(unitDir, 'app', 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.1.3' }));
}, 150_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sigil audit', () => {
  it('indexes a release tarball and reports the embedded copy, the modified package file and the skips', async () => {
    expect(await ok(['audit', 'index', 'add', join(scratch, 'libfoo-0.31.tar.gz'), '--name', 'libfoo', '--version', '0.31', '-c', 'e2e'])).toBe('indexed libfoo=0.31: 21 files\n');
    const table = await ok(['audit', 'collect', 'source/0', '-m', m, '--timeout', '2m']);
    expect(table).toMatch(/source\/0\s+\d+\s+\S+ \S+\s+1\s+1\s+1/);
    const shown = JSON.parse(await ok(['audit', 'show', 'source/0', '-m', m, '--format', 'json'])) as UnitInventory;
    expect(shown.packages).toEqual([{ name: 'fakepkg', version: '1.0-1', arch: 'all' }]);
    expect(shown.changed).toEqual([{ package: 'fakepkg', path: '/usr/share/fakepkg/b.txt', state: 'modified' }]);
    expect(shown.embedded).toMatchObject([{ name: 'libfoo', version: '0.31', dir: join(machineDir, 'agents/unit-source-0/vendor/memc-renamed'), matched: 20, total: 21, share: 95.2, kind: 'modified', differing: ['src/part7.c'], absent: 0 }]);
    expect(shown.language).toMatchObject([{ ecosystem: 'npm', name: 'left-pad', version: '1.1.3' }]);
    expect(shown.skipped.byReason['symbolic link (not followed)']).toBe(2);
    expect(Object.keys(shown.skipped.byReason).some((r) => r.startsWith('manifest does not parse'))).toBe(true);
    const text = await ok(['audit', 'show', 'source/0', '-m', m]);
    expect(text).toContain('libfoo=0.31');
    expect(text).toMatch(/20\/21\s+95 %\s+modified \(src\/part7\.c\)/);
    expect(text).toMatch(/fakepkg\s+\/usr\/share\/fakepkg\/b\.txt\s+modified/);
    const s = await status(m);
    expect(s.applications.source!.units!['source/0']!.audit).toMatchObject({ 'modified-files': 1, 'embedded-copies': 1, packages: 1 });
  });

  it('writes a CycloneDX SBOM that validates against the schema, with the embedded copy and its evidence', async () => {
    const out = join(scratch, 'sbom.json');
    await ok(['audit', 'sbom', 'source', '-m', m, '--format', 'cyclonedx-json', '-o', out]);
    const bom = JSON.parse(readFileSync(out, 'utf8')) as { components: { name: string; components?: { name: string; version: string; purl: string; properties?: { name: string; value: string }[] }[] }[] };
    const { validate, errors } = cyclonedxValidator();
    expect(validate(bom), errors()).toBe(true);
    const lib = bom.components.find((c) => c.name === 'source/0')!.components!.find((c) => c.name === 'libfoo')!;
    expect(lib).toMatchObject({ version: '0.31', purl: 'pkg:generic/libfoo@0.31' });
    expect(lib.properties).toEqual(expect.arrayContaining([{ name: 'sigil:embedded:matched', value: '20/21' }, { name: 'sigil:embedded:differs', value: 'src/part7.c' }]));
    const spdx = JSON.parse(await ok(['audit', 'sbom', 'source/0', '-m', m, '--format', 'spdx-json'])) as { spdxVersion: string; packages: { name: string }[] };
    expect(spdx.spdxVersion).toBe('SPDX-2.3');
    expect(spdx.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['libfoo', 'fakepkg', 'left-pad']));
    const bad = await sigil(['audit', 'sbom', 'source', '-m', m, '--format', 'xml']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown SBOM format "xml"');
  });

  it('finds the copy by version bound and lists exactly that unit for an OSV advisory, skipping malformed ones', async () => {
    expect(await ok(['audit', 'find', 'libfoo<0.41', '-m', m])).toMatch(/source\/0\s+embedded\s+libfoo\s+0\.31\s+.*memc-renamed \(20\/21 files, 95 %, modified copy: 1 files differ\)/);
    expect(await ok(['audit', 'find', 'libfoo<0.31', '-m', m])).toBe('No unit runs libfoo<0.31.\n');
    const adv = join(scratch, 'advisories');
    put(join(adv, 'libfoo.json'), JSON.stringify({ id: 'OSV-TEST-1', summary: 'libfoo before 0.41 overflows', affected: [{ package: { ecosystem: 'OSS-Fuzz', name: 'libfoo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.41' }] }] }] }));
    put(join(adv, 'other.json'), JSON.stringify({ id: 'OSV-TEST-2', affected: [{ package: { ecosystem: 'Debian', name: 'fakepkg' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0.9-1' }] }] }] }));
    put(join(adv, 'broken.json'), '{"id": "half');
    const r = await sigil(['audit', 'check', '--advisories', adv, '-m', m, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('read 2 advisories from 3 files; skipped 1');
    expect(r.stderr).toContain('broken.json: not JSON');
    const hits = JSON.parse(r.stdout) as { advisory: string; unit: string; kind: string; name: string; version: string; fixed: string }[];
    expect(hits.map((h) => [h.advisory, h.unit, h.kind, h.name, h.version, h.fixed])).toEqual([['OSV-TEST-1', 'source/0', 'embedded', 'libfoo', '0.31', '0.41']]);
  });

  it('refuses bad requests with a clear message and changes nothing', async () => {
    const unknown = await sigil(['audit', 'collect', 'nosuch/0', '-m', m]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no unit, machine or application "nosuch/0"');
    const notRelease = await sigil(['audit', 'index', 'add', join(scratch, 'advisories', 'broken.json'), '--name', 'x', '--version', '1', '-c', 'e2e']);
    expect(notRelease.code).not.toBe(0);
    expect(notRelease.stderr).toContain('neither a directory, a tarball nor a .deb');
    const list = await ok(['audit', 'index', 'list', '-c', 'e2e']);
    expect(list).toMatch(/^Name\s+Version\s+Source\s+Files\s+Added\n/);
    expect(list).toMatch(/^libfoo\s+0\.31\s+upstream\s+21\s/m);
  });

  it('adds the packages it saw installed to the index, so a copy of one is found', async () => {
    // The first collection listed fakepkg 1.0-1; its agent then sent dpkg's md5sums for it.
    expect(await ok(['audit', 'index', 'list', '-c', 'e2e'])).toMatch(/^fakepkg\s+1\.0-1\s+dpkg\s+2\s/m);
    const copy = join(machineDir, 'agents', 'unit-source-0', 'vendor', 'fake-copy');
    put(join(copy, 'a.txt'), 'a\n');
    put(join(copy, 'b.txt'), 'b\n');
    await ok(['audit', 'collect', 'source/0', '-m', m, '--timeout', '2m']);
    const shown = JSON.parse(await ok(['audit', 'show', 'source/0', '-m', m, '--format', 'json'])) as UnitInventory;
    expect(shown.embedded.find((e) => e.name === 'fakepkg')).toMatchObject({ version: '1.0-1', source: 'dpkg', dir: copy, kind: 'exact', matched: 2, total: 2 });
  });
});

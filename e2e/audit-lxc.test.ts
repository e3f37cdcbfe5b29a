// Software inventory on a real container (issue 19): the wordpress charm (WordPress installed
// from Debian by its install hook; no database, which the audit does not need) on the
// shared LXC controller. The test indexes a release tarball, drops a renamed copy of it into
// the unit's directory, edits one file the wordpress package installed under /usr, and
// checks what `audit show` (package, modified file, embedded copy with version and share),
// `audit sbom` (validated against the CycloneDX schema) and `audit check` (an OSV advisory
// for that library version lists exactly that unit) say, through the real agent in the
// container (its dpkg database, its /usr).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnitInventory } from '@sigil/api';
import { LXC_CONTROLLER, ROOT, canRunContainers, lxcModel, ok, sigil, status, until, workload } from './harness.ts';
import { canRun } from '../tests/ci.ts';
import { cyclonedxValidator } from '../tests/cyclonedx-schema.ts';

/**
 * Debian's wordpress package brings Apache, PHP and the MariaDB client: about 2 minutes with
 * a warm apt cache, 4 or more when the cache is cold and other suites install beside it on
 * a 2-core runner (stack-wordpress allows 10).
 */
const INSTALL_MS = 480_000;

const scratch = mkdtempSync(join(tmpdir(), 'sigil-audit-lxc-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function put(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** libwpx 2.4: 24 source files and a README; the shell loop below writes the same bytes in the container. */
const PARTS = 24;
const part = (i: number) => `/* libwpx 2.4 part ${i} */\nint wpx_part${i}(void) { return ${i}; }\n`;
const inContainer = `d=../vendor/wpx-renamed; mkdir -p $d/src; for i in $(seq 0 ${PARTS - 1}); do printf '/* libwpx 2.4 part %d */\\nint wpx_part%d(void) { return %d; }\\n' $i $i $i > $d/src/part$i.c; done; printf 'libwpx 2.4\\n' > $d/README; rm $d/src/part5.c $d/src/part6.c`;

describe.skipIf(!canRun(canRunContainers(), 'root on Linux (LXC containers)'))('sigil audit on an LXC machine with WordPress from Debian', () => {
  let M: string;
  let inv: UnitInventory;
  let edited: string;
  let wpVersion: string;

  beforeAll(async () => {
    M = await lxcModel('audit');
    await ok(['deploy', join(ROOT, 'charms', 'wordpress'), '-m', M]);
    // Installed (apt) and waiting for its database: what the audit needs.
    await until(M, 'wordpress installed', (s) => workload(s, 'wordpress/0').startsWith('blocked needs a MySQL database'), INSTALL_MS);
    for (let i = 0; i < PARTS; i++) put(join(scratch, 'libwpx-2.4', 'src', `part${i}.c`), part(i));
    put(join(scratch, 'libwpx-2.4', 'README'), 'libwpx 2.4\n');
    execFileSync('tar', ['-czf', join(scratch, 'libwpx-2.4.tar.gz'), '-C', scratch, 'libwpx-2.4']);
    await ok(['audit', 'index', 'add', join(scratch, 'libwpx-2.4.tar.gz'), '--name', 'libwpx', '--version', '2.4', '-c', LXC_CONTROLLER]);
    // A vendored subset (2 of 25 files left out) under a new name in the unit's directory, and
    // one of the wordpress package's files under /usr edited after installing.
    await ok(['exec', '-m', M, '--unit', 'wordpress/0', '--', 'sh', '-c', inContainer]);
    edited = (await ok(['exec', '-m', M, '--unit', 'wordpress/0', '--', 'sh', '-c', "f=/$(grep -m1 ' usr/share/wordpress/.*\\.php$' /var/lib/dpkg/info/wordpress.md5sums | cut -c35-); echo '// edited' >> \"$f\"; echo \"$f\""])).trim();
    wpVersion = (await ok(['exec', '-m', M, '--unit', 'wordpress/0', '--', 'dpkg-query', '-W', '-f=${Version}', 'wordpress'])).trim();
    await ok(['audit', 'collect', 'wordpress/0', '-m', M, '--timeout', '3m']);
    inv = JSON.parse(await ok(['audit', 'show', 'wordpress/0', '-m', M, '--format', 'json'])) as UnitInventory;
  }, INSTALL_MS + 120_000); // the install, then indexing, editing and collecting (about a minute)

  it('lists the wordpress package, the edited file under /usr as modified, and the copy as embedded with its version and share', async () => {
    expect(wpVersion).toMatch(/^\d/);
    expect(inv.packages).toContainEqual(expect.objectContaining({ name: 'wordpress', version: wpVersion, arch: 'all' }));
    expect(inv.packages.length).toBeGreaterThan(100);
    expect(edited).toMatch(/^\/usr\/share\/wordpress\/.+\.php$/);
    expect(inv.changed).toContainEqual({ package: 'wordpress', path: edited, state: 'modified' });
    expect(inv.embedded).toHaveLength(1);
    expect(inv.embedded[0]).toMatchObject({ name: 'libwpx', version: '2.4', matched: 23, total: 25, share: 92, kind: 'subset', differing: [], absent: 2 });
    expect(inv.embedded[0]!.dir).toMatch(/\/agents\/unit-wordpress-0\/vendor\/wpx-renamed$/);
    expect(inv.filesHashed).toBeGreaterThan(1000);
    const s = await status(M);
    expect(s.applications.wordpress!.units!['wordpress/0']!.audit).toMatchObject({ 'modified-files': inv.changed.length, 'embedded-copies': 1, packages: inv.packages.length });
  });

  it('writes a CycloneDX SBOM that validates against the schema, with the package and the embedded copy', async () => {
    const out = join(scratch, 'sbom.json');
    await ok(['audit', 'sbom', 'wordpress/0', '-m', M, '--format', 'cyclonedx-json', '-o', out]);
    const bom = JSON.parse(readFileSync(out, 'utf8')) as { components: { name: string; components?: { name: string; version: string; purl?: string }[] }[] };
    const { validate, errors } = cyclonedxValidator();
    expect(validate(bom), errors()).toBe(true);
    const unitComponents = bom.components.find((c) => c.name === 'wordpress/0')!.components!;
    expect(unitComponents).toContainEqual(expect.objectContaining({ name: 'wordpress', version: wpVersion }));
    expect(unitComponents).toContainEqual(expect.objectContaining({ name: 'libwpx', version: '2.4', purl: 'pkg:generic/libwpx@2.4' }));
  });

  it('an OSV advisory for that library version lists exactly that unit', async () => {
    const adv = join(scratch, 'advisories');
    put(join(adv, 'libwpx.json'), JSON.stringify({ id: 'OSV-LXC-1', affected: [{ package: { ecosystem: 'OSS-Fuzz', name: 'libwpx' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.0' }, { fixed: '2.5' }] }] }] }));
    put(join(adv, 'later.json'), JSON.stringify({ id: 'OSV-LXC-2', affected: [{ package: { ecosystem: 'OSS-Fuzz', name: 'libwpx' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.5' }, { fixed: '2.6' }] }] }] }));
    const r = await sigil(['audit', 'check', '--advisories', adv, '-m', M, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const hits = JSON.parse(r.stdout) as { advisory: string; unit: string; kind: string; name: string; version: string; fixed: string }[];
    expect(hits.map((h) => [h.advisory, h.unit, h.kind, h.name, h.version, h.fixed])).toEqual([['OSV-LXC-1', 'wordpress/0', 'embedded', 'libwpx', '2.4', '2.5']]);
  });
});

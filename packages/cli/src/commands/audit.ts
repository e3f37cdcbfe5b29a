import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuditUnitSummary, UnitInventory } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Ctx } from '../context.ts';
import type { Client } from '../client.ts';
import { renderList } from '../render/output.ts';
import { matches, parseQuery, softwareOf } from '../audit/query.ts';
import { checkAdvisories, loadAdvisories } from '../audit/osv.ts';
import type { SbomSubject } from '../audit/sbom.ts';
import { releaseFiles } from '../audit/release-files.ts';

interface ModelOpt { model?: string; format?: string }

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function summaryTable(rows: AuditUnitSummary[]): string {
  return renderList(['Unit', 'Machine', 'Collected', 'Packages', 'Modified files', 'Embedded copies', 'Pending'], rows.map((r) => [
    r.unit, r.machine || '-', r.counts ? when(r.counts.collectedAt) : 'never', String(r.counts?.packages ?? '-'), String(r.counts?.modified ?? '-'), String(r.counts?.embedded ?? '-'), r.pending ? 'yes' : '',
  ]), { empty: 'No units in this model.' });
}

/** The units a target names: a unit, an application, or the whole model (its name, or nothing). */
async function resolveSubject(c: Client, target: string | undefined): Promise<{ subject: SbomSubject; units: string[] }> {
  const all = await c.call('GET /api/models/:model/inventory');
  if (target === undefined || target === c.model) return { subject: { kind: 'model', name: c.model, model: c.model }, units: all.map((u) => u.unit) };
  if (target.includes('/')) {
    if (!all.some((u) => u.unit === target)) throw new SigilError('not-found', `unit "${target}" not found in model ${c.model}`, 'see `sigil status`');
    return { subject: { kind: 'unit', name: target, model: c.model }, units: [target] };
  }
  const units = all.filter((u) => u.unit.slice(0, u.unit.lastIndexOf('/')) === target).map((u) => u.unit);
  if (units.length === 0) throw new SigilError('not-found', `no unit, application or model "${target}" in model ${c.model}`, 'name a unit (app/0), an application, or the model');
  return { subject: { kind: 'application', name: target, model: c.model }, units };
}

async function inventories(c: Client, units: string[]): Promise<UnitInventory[]> {
  return c.call('GET /api/models/:model/inventory/units', { query: { units: units.join(',') } });
}

function unitText(inv: UnitInventory): string {
  const out: string[] = [];
  out.push(`Unit:       ${inv.unit} (machine ${inv.machine})`);
  out.push(`Collected:  ${when(inv.collectedAt)} in ${inv.ms} ms; ${inv.filesHashed} files hashed outside dpkg's ownership, ${inv.skipped.count} skipped`);
  out.push(`Charm:      ${inv.charm.files} files; ${inv.charm.collected ? `collected from ${inv.charm.source ?? '?'}${inv.charm.commit ? ` at ${inv.charm.commit}` : ''}; ${inv.charm.modified.length} modified, ${inv.charm.missing.length} missing since collection` : 'no collect-info'}`);
  out.push('');
  out.push(renderList(['Embedded', 'Directory', 'Files', 'Share', 'Kind', 'Evidence'], inv.embedded.map((e) => [`${e.name}=${e.version}`, e.dir, `${e.matched}/${e.total}`, `${Math.floor(e.share)} %`, e.kind === 'modified' ? `modified (${e.differing.slice(0, 5).join(', ')}${e.differing.length > 5 ? ', …' : ''})` : e.kind, e.evidence[0] ?? '']), { empty: 'Embeds: none found' }).trimEnd());
  out.push('');
  out.push(renderList(['Package', 'Changed file', 'State'], inv.changed.map((x) => [x.package, x.path, x.state]), { empty: 'Changed package files: none' }).trimEnd());
  out.push('');
  out.push(renderList(['Language package', 'Version', 'Ecosystem', 'Found in'], inv.language.map((l) => [l.name, l.version, l.ecosystem, l.path]), { empty: 'Language packages: none' }).trimEnd());
  out.push('');
  out.push(renderList(['Package', 'Version', 'Arch'], inv.packages.map((p) => [p.name, p.version, p.arch]), { empty: 'Debian packages: none (no dpkg database on this machine)' }).trimEnd());
  if (inv.skipped.count > 0) {
    out.push('');
    out.push(`Skipped ${inv.skipped.count}: ${Object.entries(inv.skipped.byReason).map(([r, n]) => `${n} ${r}`).join('; ')}`);
  }
  return out.join('\n');
}

export function registerAudit(program: Command, ctx: Ctx): void {
  const audit = program.command('audit').description('software inventory of units: packages, changed files, embedded copies of libraries, SBOMs, advisories (the controller\'s call log is `audit-log`)');
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(audit.command('collect'))
    .description('collect the inventory of units now, through their agents (all units when none is named)')
    .argument('[targets...]', 'units (app/0), machines (0) or applications')
    .option('--no-wait', 'return once the collection is asked for')
    .option('--timeout <duration>', 'how long to wait for the agents', '10m')
    .action(async (targets: string[], o: ModelOpt & { wait: boolean; timeout: string }) => {
      const c = ctx.client(o.model);
      const limit = parseDuration(o.timeout);
      const { units } = await c.call('POST /api/models/:model/inventory/collect', { body: { targets } });
      if (units.length === 0) throw new SigilError('not-found', `model ${c.model} has no units to collect`, 'deploy something first');
      ctx.info(`collection asked of ${units.length} unit${units.length === 1 ? '' : 's'}`);
      if (!o.wait) return;
      const names = new Set(units.map((u) => u.unit));
      const deadline = Date.now() + limit;
      for (let pause = 200; ; pause = Math.min(pause * 1.5, 2000)) {
        const rows = (await c.call('GET /api/models/:model/inventory')).filter((r) => names.has(r.unit));
        if (rows.every((r) => !r.pending)) {
          ctx.out(summaryTable(rows));
          return;
        }
        if (Date.now() > deadline) {
          throw new SigilError('timeout', `no inventory after ${o.timeout} from ${rows.filter((r) => r.pending).map((r) => r.unit).join(', ')}`, 'check that their agents are connected (`sigil status`) and read `sigil debug-log`');
        }
        await new Promise((r) => setTimeout(r, pause));
      }
    });

  withModel(audit.command('units'))
    .description('per unit: when its inventory was collected, its packages, modified package files and embedded copies')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: ModelOpt) => {
      const c = ctx.client(o.model);
      const rows = await c.call('GET /api/models/:model/inventory');
      ctx.print(rows, o.format, () => summaryTable(rows));
    });

  withModel(audit.command('show'))
    .description('one unit\'s inventory: embedded copies with evidence, files changed from their packages, language packages, Debian packages')
    .argument('<unit>')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (unit: string, o: ModelOpt) => {
      const c = ctx.client(o.model);
      const [inv] = await inventories(c, [unit]);
      if (!inv) throw new SigilError('not-found', `no inventory of ${unit} yet`, `collect one with \`sigil audit collect ${unit}\``);
      ctx.print(inv, o.format, () => unitText(inv));
    });

  withModel(audit.command('find'))
    .description('which units run a piece of software, packaged or embedded: NAME, or NAME with a version bound (libfoo<0.41, openssl<=3.0.11)')
    .argument('<query>')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (text: string, o: ModelOpt) => {
      const q = parseQuery(text);
      const c = ctx.client(o.model);
      const found = (await inventories(c, [])).flatMap(softwareOf).filter((f) => matches(q, f));
      const rows = found.map(({ copy: _copy, ...f }) => f);
      ctx.print(rows, o.format, () => renderList(['Unit', 'Kind', 'Name', 'Version', 'Evidence'], rows.map((f) => [f.unit, f.kind, f.name, f.version, f.evidence]), { empty: `No unit runs ${text}.` }));
    });

  withModel(audit.command('sbom'))
    .description('a software bill of materials for a unit, an application or the model (CycloneDX 1.6 or SPDX 2.3 JSON), embedded copies included with their evidence')
    .argument('[target]', 'a unit, an application, or the model (the default)')
    .option('--format <format>', 'cyclonedx-json or spdx-json', 'cyclonedx-json')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(async (target: string | undefined, o: ModelOpt & { output?: string; format: string }) => {
      if (o.format !== 'cyclonedx-json' && o.format !== 'spdx-json') throw new SigilError('bad-request', `unknown SBOM format "${o.format}"`, 'use --format cyclonedx-json or --format spdx-json');
      const c = ctx.client(o.model);
      const { subject, units } = await resolveSubject(c, target);
      const invs = await inventories(c, units);
      const missing = units.filter((u) => !invs.some((i) => i.unit === u));
      if (missing.length > 0) ctx.info(`no inventory yet for ${missing.join(', ')}: left out (collect with \`sigil audit collect\`)`);
      // Loaded only here: the CycloneDX library is large, and every other command starts without it.
      const { cyclonedxJson, spdxJson } = await import('../audit/sbom.ts');
      const text = o.format === 'cyclonedx-json' ? cyclonedxJson(subject, invs) : spdxJson(subject, invs);
      if (o.output) writeFileSync(o.output, text);
      else ctx.out(text);
    });

  withModel(audit.command('check'))
    .description('which units OSV advisories reach, offline: the package, language package or embedded copy that matches, and the fixed version')
    .requiredOption('--advisories <path>', 'an OSV JSON file, or a directory of them')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: ModelOpt & { advisories: string }) => {
      const loaded = loadAdvisories(o.advisories);
      ctx.info(`read ${loaded.advisories.length} advisories from ${loaded.files} file${loaded.files === 1 ? '' : 's'}${loaded.skipped.length > 0 ? `; skipped ${loaded.skipped.length}` : ''}`);
      for (const s of loaded.skipped.slice(0, 20)) ctx.info(`  skipped ${s.source}: ${s.reason}`);
      if (loaded.skipped.length > 20) ctx.info(`  … and ${loaded.skipped.length - 20} more`);
      if (loaded.advisories.length === 0) throw new SigilError('bad-request', `no OSV advisory in ${o.advisories}`, 'advisories are JSON objects with "id" and "affected" (https://ossf.github.io/osv-schema/)');
      const c = ctx.client(o.model);
      const hits = checkAdvisories(loaded.advisories, await inventories(c, []));
      const rows = hits.map(({ copy: _copy, ...h }) => h);
      ctx.print(rows, o.format, () => renderList(['Advisory', 'Unit', 'Kind', 'Package', 'Version', 'Fixed', 'Evidence'], rows.map((h) => [h.advisory, h.unit, h.kind, h.name, h.version, h.fixed || '-', h.evidence]), { empty: 'No unit is affected.' }));
    });

  const index = audit.command('index').description('the fingerprint index of known releases that embedded copies are matched against');
  index.command('add')
    .description('add a release from its directory, tarball or .deb (controller admins)')
    .argument('<path>')
    .option('--name <name>', 'the software\'s name (a .deb names itself)')
    .option('--version <version>', 'the release\'s version (a .deb names itself)')
    .option('-c, --controller <name>', 'controller')
    .action(async (path: string, o: { name?: string; version?: string; controller?: string }) => {
      const r = releaseFiles(path);
      const name = o.name ?? r.name;
      const version = o.version ?? r.version;
      if (!name || !version) throw new SigilError('bad-request', `${path} needs --name and --version`, 'e.g. `sigil audit index add libfoo-0.31.tar.gz --name libfoo --version 0.31`');
      if (r.files.length === 0) throw new SigilError('bad-request', `${path} holds no regular file to index`, 'pass the release\'s tree, tarball or .deb');
      for (const s of r.skipped.slice(0, 10)) ctx.info(`skipped ${s.path}: ${s.reason}`);
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const added = await c.call('POST /api/inventory/index', { body: { name, version, source: path.endsWith('.deb') ? 'deb' : 'upstream', files: r.files } });
      ctx.out(`indexed ${added.name}=${added.version}: ${added.files} files${r.skipped.length > 0 ? ` (${r.skipped.length} skipped)` : ''}`);
    });
  index.command('list')
    .description('the releases in the index')
    .option('-c, --controller <name>', 'controller')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { controller?: string; format?: string }) => {
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      const rows = await c.call('GET /api/inventory/index');
      ctx.print(rows, o.format, () => renderList(['Name', 'Version', 'Source', 'Files', 'Added'], rows.map((r) => [r.name, r.version, r.source, String(r.files), when(r.added)]), { empty: 'The index is empty: add releases with `sigil audit index add`.' }));
    });
  index.command('remove')
    .description('remove a release from the index (controller admins)')
    .argument('<release>', 'NAME=VERSION')
    .option('-c, --controller <name>', 'controller')
    .action(async (release: string, o: { controller?: string }) => {
      const eq = release.indexOf('=');
      if (eq <= 0) throw new SigilError('bad-request', `"${release}" is not NAME=VERSION`, 'e.g. `sigil audit index remove libfoo=0.31`');
      const c = ctx.client(o.controller ? `${o.controller}:default` : undefined);
      await c.call('POST /api/inventory/index/remove', { body: { name: release.slice(0, eq), version: release.slice(eq + 1) } });
      ctx.out(`removed ${release}`);
    });
}


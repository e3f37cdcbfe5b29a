import { randomUUID } from 'node:crypto';
import * as CDX from '@cyclonedx/cyclonedx-library';
import type { EmbeddedCopy, LanguagePackage, UnitInventory } from '@sigil/api';
import { describeCopy } from './query.ts';

const enc = (s: string) => encodeURIComponent(s);

/** Package URLs (purl spec) for what the inventory found. */
export function debPurl(name: string, version: string, arch: string): string {
  return `pkg:deb/debian/${enc(name)}@${enc(version)}${arch ? `?arch=${enc(arch)}` : ''}`;
}

export function languagePurl(p: LanguagePackage): string {
  switch (p.ecosystem) {
    case 'npm': {
      const [scope, name] = p.name.startsWith('@') ? [p.name.slice(0, p.name.indexOf('/')), p.name.slice(p.name.indexOf('/') + 1)] : ['', p.name];
      return `pkg:npm/${scope ? enc(scope) + '/' : ''}${enc(name)}@${enc(p.version)}`;
    }
    case 'PyPI': return `pkg:pypi/${enc(p.name.toLowerCase().replace(/[-_.]+/g, '-'))}@${enc(p.version)}`;
    case 'Packagist': return `pkg:composer/${p.name.split('/').map(enc).join('/')}@${enc(p.version)}`;
    case 'Go': return `pkg:golang/${p.name.split('/').map(enc).join('/')}@v${enc(p.version)}`;
    case 'RubyGems': return `pkg:gem/${enc(p.name)}@${enc(p.version)}`;
  }
}

export function embeddedPurl(e: EmbeddedCopy): string {
  return `pkg:generic/${enc(e.name)}@${enc(e.version)}`;
}

export interface SbomSubject {
  /** What the SBOM describes: a unit, an application or a model. */
  kind: 'unit' | 'application' | 'model';
  name: string;
  model: string;
}

/**
 * A CycloneDX 1.6 BOM built with the CycloneDX library: the subject as the metadata's
 * component, each unit as an application component holding its Debian packages, language
 * packages and embedded copies. An embedded copy's evidence (directory, matched files,
 * share, kind, differing files) is carried as `sigil:embedded:*` properties.
 */
export function cyclonedxBom(subject: SbomSubject, inventories: UnitInventory[], now = new Date()): CDX.Models.Bom {
  const { Models, Enums } = CDX;
  const bom = new Models.Bom({ serialNumber: `urn:uuid:${randomUUID()}` });
  bom.metadata.timestamp = now;
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'sigil', { group: 'sigil', description: 'sigil audit sbom' }));
  bom.metadata.component = new Models.Component(subject.kind === 'unit' ? Enums.ComponentType.Application : Enums.ComponentType.Platform, subject.name, {
    bomRef: `sigil:${subject.kind}:${subject.model}/${subject.name}`,
    description: `${subject.kind} ${subject.name} in model ${subject.model}`,
  });
  for (const inv of inventories) {
    const unit = new Models.Component(Enums.ComponentType.Application, inv.unit, {
      bomRef: `sigil:unit:${inv.unit}`,
      description: `unit ${inv.unit} on machine ${inv.machine}, collected ${new Date(inv.collectedAt).toISOString()}`,
    });
    unit.properties.add(new Models.Property('sigil:machine', inv.machine));
    unit.properties.add(new Models.Property('sigil:collected', new Date(inv.collectedAt).toISOString()));
    unit.properties.add(new Models.Property('sigil:modified-package-files', String(inv.changed.length)));
    if (inv.charm.collected && inv.charm.source) unit.properties.add(new Models.Property('sigil:charm-source', inv.charm.source + (inv.charm.commit ? `@${inv.charm.commit}` : '')));
    for (const p of inv.packages) {
      const c = new Models.Component(Enums.ComponentType.Library, p.name, { version: p.version, purl: debPurl(p.name, p.version, p.arch), bomRef: `${inv.unit}:deb:${p.name}:${p.arch}@${p.version}` });
      const changed = inv.changed.filter((x) => x.package === p.name);
      if (changed.length > 0) {
        c.properties.add(new Models.Property('sigil:modified-files', String(changed.length)));
        for (const x of changed.slice(0, 50)) c.properties.add(new Models.Property(`sigil:file-${x.state}`, x.path));
      }
      unit.components.add(c);
    }
    for (const p of inv.language) {
      const c = new Models.Component(Enums.ComponentType.Library, p.name, { version: p.version, purl: languagePurl(p), bomRef: `${inv.unit}:${p.ecosystem}:${p.name}@${p.version}:${p.path}` });
      c.properties.add(new Models.Property('sigil:found-in', p.path));
      unit.components.add(c);
    }
    for (const e of inv.embedded) {
      const c = new Models.Component(Enums.ComponentType.Library, e.name, { version: e.version, purl: embeddedPurl(e), bomRef: `${inv.unit}:embedded:${e.name}@${e.version}:${e.dir}`, description: `embedded copy: ${describeCopy(e)}` });
      c.properties.add(new Models.Property('sigil:embedded:dir', e.dir));
      c.properties.add(new Models.Property('sigil:embedded:kind', e.kind));
      c.properties.add(new Models.Property('sigil:embedded:matched', `${e.matched}/${e.total}`));
      c.properties.add(new Models.Property('sigil:embedded:share', String(e.share)));
      c.properties.add(new Models.Property('sigil:embedded:index-source', e.source));
      for (const f of e.differing.slice(0, 50)) c.properties.add(new Models.Property('sigil:embedded:differs', f));
      for (const f of e.evidence) c.properties.add(new Models.Property('sigil:embedded:evidence', f));
      unit.components.add(c);
    }
    bom.components.add(unit);
  }
  return bom;
}

export function cyclonedxJson(subject: SbomSubject, inventories: UnitInventory[], now = new Date()): string {
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(cyclonedxBom(subject, inventories, now), { sortLists: true, space: 2 }) + '\n';
}

/**
 * SPDX 2.3 JSON. No maintained SPDX document library exists on npm (decision 0022), so this
 * is the same inventory mapped field by field onto SPDX's package model, with the purls as
 * external references and `CONTAINS` relationships from each unit.
 */
export function spdxJson(subject: SbomSubject, inventories: UnitInventory[], now = new Date()): string {
  const id = (s: string) => 'SPDXRef-' + s.replace(/[^A-Za-z0-9.-]/g, '-');
  const packages: Record<string, unknown>[] = [];
  const relationships: Record<string, string>[] = [];
  const seen = new Set<string>();
  const pkg = (spdxId: string, name: string, version: string, purl: string | undefined, comment: string) => {
    let sid = spdxId;
    for (let n = 2; seen.has(sid); n++) sid = `${spdxId}-${n}`;
    seen.add(sid);
    packages.push({
      SPDXID: sid, name, versionInfo: version, downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION', licenseDeclared: 'NOASSERTION', copyrightText: 'NOASSERTION', comment,
      ...(purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }] } : {}),
    });
    return sid;
  };
  for (const inv of inventories) {
    const u = pkg(id(`unit-${inv.unit}`), inv.unit, '', undefined, `unit on machine ${inv.machine}, collected ${new Date(inv.collectedAt).toISOString()}`);
    relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: u });
    for (const p of inv.packages) relationships.push({ spdxElementId: u, relationshipType: 'CONTAINS', relatedSpdxElement: pkg(id(`${inv.unit}-deb-${p.name}`), p.name, p.version, debPurl(p.name, p.version, p.arch), 'Debian package (dpkg)') });
    for (const p of inv.language) relationships.push({ spdxElementId: u, relationshipType: 'CONTAINS', relatedSpdxElement: pkg(id(`${inv.unit}-${p.ecosystem}-${p.name}`), p.name, p.version, languagePurl(p), `${p.ecosystem} package found in ${p.path}`) });
    for (const e of inv.embedded) relationships.push({ spdxElementId: u, relationshipType: 'CONTAINS', relatedSpdxElement: pkg(id(`${inv.unit}-embedded-${e.name}`), e.name, e.version, embeddedPurl(e), `embedded copy: ${describeCopy(e)}${e.differing.length ? `; differing: ${e.differing.slice(0, 20).join(', ')}` : ''}`) });
  }
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${subject.model}/${subject.name}`,
    documentNamespace: `https://sigil.invalid/spdx/${enc(subject.model)}/${enc(subject.name)}/${randomUUID()}`,
    creationInfo: { created: now.toISOString().replace(/\.\d+Z$/, 'Z'), creators: ['Tool: sigil-audit'] },
    packages,
    relationships,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

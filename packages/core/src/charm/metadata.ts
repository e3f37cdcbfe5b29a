import type { CharmMeta, EndpointSpec, Role } from './types.ts';
import { parseResourcesSection, parseStorageSection } from './storage.ts';
import { describe, isMap, loadYaml, type YamlFile } from './yaml-file.ts';

// Charm names follow the same rule as application names (juju/charm url.go validName).
const CHARM_NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*$/;

type Section = 'provides' | 'requires' | 'peers';
const SECTIONS: readonly (readonly [Section, Role])[] = [
  ['provides', 'provider'],
  ['requires', 'requirer'],
  ['peers', 'peer'],
];

const RESERVED_HINT =
  'the name "juju" and the prefix "juju-" are reserved for Juju itself (only charms whose own name starts with "juju-" may use them); rename it';

/**
 * `juju` and `juju-*` are reserved, except to charms whose own name starts with `juju-`
 * (juju/charm meta.go reservedName).
 */
export function isReservedName(charmName: string, name: string): boolean {
  if (charmName.startsWith('juju-')) return false;
  return name === 'juju' || name.startsWith('juju-');
}

/**
 * Parses and checks metadata.yaml as juju/charm does (`ReadMeta` + `Meta.Check`). Keys Sigil
 * does not model (containers, …) are kept in `raw` and otherwise
 * ignored, as Juju ignores unknown keys.
 */
export function parseMetadata(text: string): CharmMeta {
  const f: YamlFile = loadYaml('metadata.yaml', text);
  if (f.data === null || f.data === undefined) {
    f.fail([], 'the file is empty', 'metadata.yaml needs at least name, summary and description');
  }
  if (!isMap(f.data)) {
    f.fail([], `expected a map of keys such as name and summary, got ${describe(f.data)}`, 'metadata.yaml must be a YAML map, e.g. "name: my-charm"');
  }
  const raw = f.data;
  const name = requiredString(f, raw, 'name', 'the charm name, e.g. "name: my-charm"');
  if (!CHARM_NAME_RE.test(name)) {
    f.fail(['name'], `invalid charm name ${JSON.stringify(name)}`, 'use lowercase letters, digits and hyphens, starting with a letter; no segment may be only digits (e.g. "my-charm")');
  }
  const summary = requiredString(f, raw, 'summary', 'a one-line summary, e.g. "summary: Blog engine"');
  const description = requiredString(f, raw, 'description', 'a longer description of what the charm deploys');
  const subordinate = raw['subordinate'] ?? false;
  if (typeof subordinate !== 'boolean') {
    f.fail(['subordinate'], `expected true or false, got ${describe(subordinate)}`, 'write "subordinate: true" for a subordinate charm, or leave the key out');
  }

  const sections: Record<Section, [string, EndpointSpec][]> = { provides: [], requires: [], peers: [] };
  const usedIn = new Map<string, Section>();
  for (const [section, role] of SECTIONS) {
    const value = raw[section];
    if (value === null || value === undefined) continue;
    if (!isMap(value)) {
      f.fail([section], `expected a map of endpoint name to interface, got ${describe(value)}`, `write each endpoint as "<name>: <interface>" or "<name>: {interface: <interface>}" under ${section}`);
    }
    for (const [ep, specValue] of Object.entries(value)) {
      const spec = parseEndpoint(f, section, role, ep, specValue);
      checkReserved(f, name, subordinate, section, spec);
      const previous = usedIn.get(ep);
      if (previous !== undefined) {
        f.fail([section, ep], `charm "${name}" using a duplicated relation name: "${ep}" (already in ${previous})`, 'endpoint names must be unique across provides, requires and peers; rename one of them');
      }
      usedIn.set(ep, section);
      sections[section].push([ep, spec]);
    }
  }

  if (subordinate && !sections.requires.some(([, s]) => s.scope === 'container')) {
    f.fail(['subordinate'], `subordinate charm "${name}" lacks requires relation with container scope`, 'a subordinate attaches to its principal through a requires endpoint with "scope: container", e.g. "requires: {host: {interface: juju-info, scope: container}}"; add one, or drop "subordinate: true"');
  }

  return {
    name,
    summary,
    description,
    subordinate,
    provides: Object.fromEntries(sections.provides),
    requires: Object.fromEntries(sections.requires),
    peers: Object.fromEntries(sections.peers),
    extraBindings: parseExtraBindings(f, raw['extra-bindings'], usedIn),
    storage: parseStorageSection(f, raw['storage']),
    resources: parseResourcesSection(f, raw['resources']),
    raw,
  };
}

function requiredString(f: YamlFile, raw: Record<string, unknown>, key: string, what: string): string {
  const v = raw[key];
  if (v === undefined || v === null) f.missing([], key, `add ${what}`);
  if (typeof v !== 'string') f.fail([key], `expected a string, got ${describe(v)}`, `quote the value if it is meant as text; it should be ${what}`);
  if (key === 'name' && v === '') f.fail([key], 'the charm name is empty', `add ${what}`);
  return v;
}

function parseEndpoint(f: YamlFile, section: Section, role: Role, name: string, v: unknown): EndpointSpec {
  const path = [section, name];
  const example = `"${name}: {interface: <interface>}" or "${name}: <interface>"`;
  if (typeof v === 'string') {
    if (v === '') f.fail(path, 'the interface name is empty', `write ${example}`);
    return { name, role, interface: v, optional: false, scope: 'global' };
  }
  if (!isMap(v)) f.fail(path, `expected an interface name or a map with "interface", got ${describe(v)}`, `write ${example}`);
  const iface = v['interface'];
  if (iface === undefined || iface === null) f.missing(path, 'interface', `write ${example}`);
  if (typeof iface !== 'string' || iface === '') {
    f.fail([...path, 'interface'], `expected an interface name, got ${describe(iface)}`, `write ${example}`);
  }
  const spec: EndpointSpec = { name, role, interface: iface, optional: false, scope: 'global' };
  const { limit, optional, scope } = v;
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      f.fail([...path, 'limit'], `expected a whole number of relations, got ${describe(limit)}`, 'set "limit" to a number such as 1, or leave it out for no limit');
    }
    spec.limit = limit;
  }
  if (optional !== undefined && optional !== null) {
    if (typeof optional !== 'boolean') f.fail([...path, 'optional'], `expected true or false, got ${describe(optional)}`, 'set "optional: true" or leave it out');
    spec.optional = optional;
  }
  if (scope !== undefined && scope !== null) {
    if (scope !== 'global' && scope !== 'container') {
      f.fail([...path, 'scope'], `expected "global" or "container", got ${describe(scope)}`, 'use "scope: container" for a relation between a subordinate and its principal; otherwise leave it out');
    }
    spec.scope = scope;
  }
  return spec;
}

function checkReserved(f: YamlFile, charm: string, subordinate: boolean, section: Section, spec: EndpointSpec): void {
  // A subordinate's container-scoped requires endpoint may use a reserved name, so that
  // "juju-info: {interface: juju-info, scope: container}" works (juju/charm Meta.Check).
  const exempt = subordinate && spec.role === 'requirer' && spec.scope === 'container';
  if (!exempt && isReservedName(charm, spec.name)) {
    f.fail([section, spec.name], `charm "${charm}" using a reserved relation name: "${spec.name}"`, `endpoint names: ${RESERVED_HINT}`);
  }
  if (spec.role !== 'requirer' && isReservedName(charm, spec.interface)) {
    f.fail([section, spec.name], `charm "${charm}" relation "${spec.name}" using a reserved interface: "${spec.interface}"`, `interfaces of provides and peers endpoints: ${RESERVED_HINT}. Every charm already provides juju-info implicitly`);
  }
}

function parseExtraBindings(f: YamlFile, v: unknown, endpoints: ReadonlyMap<string, Section>): string[] {
  if (v === undefined || v === null) return [];
  if (!isMap(v)) {
    f.fail(['extra-bindings'], `expected a map of binding names, got ${describe(v)}`, 'list each binding as a key with no value, e.g. "extra-bindings: {admin-api: }"');
  }
  const names = Object.keys(v);
  const clash = names.filter((n) => endpoints.has(n)).sort();
  if (clash.length > 0) {
    f.fail(['extra-bindings', clash[0]!], `relation names (${clash.join(', ')}) cannot be used in extra bindings`, 'relation endpoints can already be bound to spaces; rename the extra binding');
  }
  return names;
}

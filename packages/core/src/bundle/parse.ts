import { resolvePath } from './paths.ts';
import { SigilError } from '../errors.ts';
import type { ConfigValue } from '../charm/types.ts';
import { checkApplicationName, isApplicationName } from '../names.ts';
import { closest, describeValue, isMap, type BundleDoc, type YamlPath } from './yaml-docs.ts';

/**
 * What one YAML document says, checked for types and syntax but not yet merged with the
 * other documents or cross-checked. Fields absent from the document are absent here, so an
 * overlay only overrides what it names; `null` option and annotation values unset a key.
 */
export interface AppPart {
  /** Listed with no fields: in an overlay, this removes the application. */
  empty: boolean;
  charm?: string;
  /** `revision:` of a charm named from the controller's library; ignored with a path. */
  revision?: number;
  numUnits?: number;
  to?: string[];
  options: Record<string, ConfigValue | null>;
  expose?: boolean;
  constraints?: string;
  annotations: Record<string, string | null>;
  /** `file:line` by field name, `options.<key>` and `annotations.<key>`; '' is the application itself. */
  where: Record<string, string>;
}

export interface MachinePart {
  constraints: string;
  annotations: Record<string, string>;
  where: string;
}

export interface RelationPart {
  pair: [string, string];
  where: string;
}

export interface DocPart {
  doc: BundleDoc;
  description?: string;
  applications: Map<string, AppPart>;
  machines?: Map<string, MachinePart>;
  relations: RelationPart[];
}

const TOP_KEYS = ['applications', 'bundle', 'default-base', 'description', 'machines', 'relations', 'series', 'services', 'tags'];
const APP_KEYS = ['annotations', 'charm', 'constraints', 'expose', 'num_units', 'options', 'revision', 'scale', 'to'];
// Juju keys Sigil accepts and does not act on (yet): they change nothing Sigil models.
const APP_IGNORED = ['base', 'bindings', 'channel', 'resources', 'series', 'storage', 'trust'];
const MACHINE_KEYS = ['annotations', 'base', 'constraints', 'series'];
const UNSUPPORTED: Record<string, string> = {
  saas: 'cross-model relations (saas) are not supported yet',
  devices: 'devices are not supported yet',
  'exposed-endpoints': 'per-endpoint exposure is not supported yet; use "expose: true"',
  offers: 'offers (cross-model relations) are not supported yet',
  plan: 'plans (paid charms) are not supported',
  placement: 'Kubernetes placement is not supported; use "to" with machine ids',
};

/** Reads a file named by `include-file://` or `include-base64://`, given its absolute path. */
export type ReadFile = (absPath: string) => Buffer;

/** Checks one document's keys and value types; every error names the file, line and key. */
export function parseDoc(doc: BundleDoc, readFile: ReadFile): DocPart {
  const data = doc.data;
  const part: DocPart = { doc, applications: new Map(), relations: [] };
  if (data === null || data === undefined) return part;
  if (!isMap(data)) doc.fail([], `expected a map with "applications", got ${describeValue(data)}`, 'a bundle is a YAML map, e.g. "applications: {wordpress: {charm: ./charms/wordpress, num_units: 1}}"');
  checkKeys(doc, [], data, TOP_KEYS, 'bundle');
  const kind = data['bundle'];
  if (kind === 'kubernetes') doc.fail(['bundle'], 'Kubernetes bundles are not supported', 'Sigil deploys machine charms; remove "bundle: kubernetes"');
  if (kind !== null && kind !== undefined) doc.fail(['bundle'], `unknown bundle type ${describeValue(kind)}`, 'leave "bundle" out for a machine bundle');
  const description = data['description'];
  if (description !== undefined && description !== null) part.description = str(doc, ['description'], description);
  if ('applications' in data && 'services' in data) {
    doc.fail(['services'], 'both "applications" and "services" are present', '"services" is the pre-Juju-2 name of "applications"; merge them under "applications"');
  }
  const appsKey = 'services' in data ? 'services' : 'applications';
  const apps = data[appsKey];
  if (apps !== null && apps !== undefined) {
    if (!isMap(apps)) doc.fail([appsKey], `expected a map of application name to application, got ${describeValue(apps)}`, 'e.g. "applications: {wordpress: {charm: ./charms/wordpress}}"');
    for (const [name, spec] of Object.entries(apps)) part.applications.set(name, parseApp(doc, [appsKey, name], spec, readFile));
  }
  const machines = data['machines'];
  if (machines !== null && machines !== undefined) {
    if (!isMap(machines)) doc.fail(['machines'], `expected a map of machine id to machine, got ${describeValue(machines)}`, 'e.g. "machines: {\\"0\\": {constraints: mem=4G}}"');
    part.machines = new Map(Object.entries(machines).map(([id, spec]) => [id, parseMachine(doc, id, spec)]));
  }
  const relations = data['relations'];
  if (relations !== null && relations !== undefined) {
    if (!Array.isArray(relations)) doc.fail(['relations'], `expected a list of relations, got ${describeValue(relations)}`, 'e.g. "relations: [[wordpress:db, mysql:db]]"');
    part.relations = relations.map((r: unknown, i) => parseRelation(doc, ['relations', i], r));
  }
  return part;
}

function checkKeys(doc: BundleDoc, path: YamlPath, map: Record<string, unknown>, valid: string[], what: string): void {
  for (const key of Object.keys(map)) {
    if (valid.includes(key)) continue;
    const unsupported = UNSUPPORTED[key];
    if (unsupported !== undefined) doc.fail([...path, key], unsupported, `remove "${key}" from the ${what}`);
    const guess = closest(key, valid);
    doc.fail([...path, key], `unknown ${what} key "${key}"`, `${guess === undefined ? '' : `did you mean "${guess}"? `}valid ${what} keys: ${valid.join(', ')}`);
  }
}

function str(doc: BundleDoc, path: YamlPath, v: unknown): string {
  if (typeof v !== 'string') doc.fail(path, `expected a string, got ${describeValue(v)}`, 'quote the value');
  return v;
}

/** A scalar as text: numbers as written (`450.50` stays so), so annotations keep their form. */
function text(doc: BundleDoc, path: YamlPath, v: unknown, hint: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return doc.source(path) ?? String(v);
  return doc.fail(path, `expected a string, got ${describeValue(v)}`, hint);
}

function parseApp(doc: BundleDoc, path: YamlPath, spec: unknown, readFile: ReadFile): AppPart {
  const name = path[1] as string;
  if (!isApplicationName(name)) {
    try {
      checkApplicationName(name);
    } catch (e) {
      doc.fail(path, (e as SigilError).message, (e as SigilError).hint ?? '');
    }
  }
  const part: AppPart = { empty: false, options: {}, annotations: {}, where: { '': doc.where(path) } };
  if (spec === null || (isMap(spec) && Object.keys(spec).length === 0)) return { ...part, empty: true };
  if (!isMap(spec)) doc.fail(path, `expected a map with "charm" and other fields, got ${describeValue(spec)}`, `e.g. "${name}: {charm: ./charms/${name}, num_units: 1}"`);
  checkKeys(doc, path, spec, [...APP_KEYS, ...APP_IGNORED].sort(), 'application');
  const at = (key: string): YamlPath => [...path, key];
  for (const key of Object.keys(spec)) part.where[key] = doc.where(at(key));

  if (spec['charm'] !== undefined) part.charm = parseCharmPath(doc, at('charm'), spec['charm'], name);
  const revision = spec['revision'];
  if (revision !== undefined && revision !== null) {
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) doc.fail(at('revision'), `expected a revision number, got ${describeValue(revision)}`, 'e.g. "revision: 2"; `sigil charms` lists the revisions of a library charm');
    part.revision = revision;
  }
  if (spec['num_units'] !== undefined && spec['scale'] !== undefined) {
    doc.fail(at('scale'), 'both "num_units" and "scale" are present', '"scale" is another name for "num_units"; keep one');
  }
  const unitsKey = spec['scale'] !== undefined ? 'scale' : 'num_units';
  const units = spec[unitsKey];
  if (units !== undefined) {
    if (typeof units !== 'number' || !Number.isSafeInteger(units) || units < 0) {
      doc.fail(at(unitsKey), `expected a non-negative whole number, got ${typeof units === 'number' ? (doc.source(at(unitsKey)) ?? units) : describeValue(units)}`, `e.g. "${unitsKey}: 2"`);
    }
    part.numUnits = units;
    part.where['numUnits'] = doc.where(at(unitsKey));
  }
  if (spec['to'] !== undefined) part.to = parsePlacements(doc, at('to'), spec['to']);
  const options = spec['options'];
  if (options !== undefined && options !== null) {
    if (!isMap(options)) doc.fail(at('options'), `expected a map of option name to value, got ${describeValue(options)}`, 'e.g. "options: {blog-title: My Blog}"');
    for (const [key, v] of Object.entries(options)) {
      const p = [...at('options'), key];
      part.where[`options.${key}`] = doc.where(p);
      if (v === null) part.options[key] = null;
      else if (typeof v === 'string') part.options[key] = include(doc, p, v, readFile);
      else if (typeof v === 'number' || typeof v === 'boolean') part.options[key] = v;
      else doc.fail(p, `expected a string, number or boolean, got ${describeValue(v)}`, 'option values are scalars; to pass structured data, quote it as a string or use include-file://');
    }
  }
  const expose = spec['expose'];
  if (expose !== undefined && expose !== null) {
    if (typeof expose !== 'boolean') doc.fail(at('expose'), `expected true or false, got ${describeValue(expose)}`, 'write "expose: true", or leave the key out');
    part.expose = expose;
  }
  const constraints = spec['constraints'];
  if (constraints !== undefined) part.constraints = constraints === null ? '' : text(doc, at('constraints'), constraints, 'e.g. "constraints: mem=2G cores=2"');
  part.annotations = parseAnnotations(doc, at('annotations'), spec['annotations']);
  for (const key of Object.keys(part.annotations)) part.where[`annotations.${key}`] = doc.where([...at('annotations'), key]);
  return part;
}

function parseCharmPath(doc: BundleDoc, path: YamlPath, v: unknown, app: string): string {
  const charm = str(doc, path, v);
  if (charm === '.' || charm === '..' || charm.startsWith('./') || charm.startsWith('../') || charm.startsWith('/')) return resolvePath(doc.dir, charm);
  // A bare name, as Juju bundles name Charmhub charms: a charm in the controller's library (`sigil charms`).
  const name = /^(?:ch:)?([a-z][a-z0-9-]*)$/.exec(charm)?.[1];
  if (name !== undefined) return name;
  return doc.fail(path, `charm ${JSON.stringify(charm)}: not a path or a charm name`, `point "charm" at the charm's directory, relative to ${doc.file} (e.g. "charm: ./charms/${app}"), or name a charm in the controller's library (e.g. "charm: ${app}"; \`sigil charms\` lists them)`);
}

const PLACEMENT_HINT = 'use "new", a machine id declared under "machines" (e.g. "0"), or a unit of another application (e.g. "mysql/0")';

function parsePlacements(doc: BundleDoc, path: YamlPath, v: unknown): string[] {
  if (!Array.isArray(v)) doc.fail(path, `expected a list of placements, got ${describeValue(v)}`, `write e.g. to: ["0", "new"]; ${PLACEMENT_HINT}`);
  return v.map((item: unknown, i) => {
    const p = [...path, i];
    const placement = typeof item === 'number' && Number.isSafeInteger(item) ? (doc.source(p) ?? String(item)) : item;
    if (typeof placement !== 'string') return doc.fail(p, `expected a placement string, got ${describeValue(item)}`, PLACEMENT_HINT);
    if (placement === 'new' || /^(0|[1-9][0-9]*)$/.test(placement)) return placement;
    const unit = /^([^/:]+)\/(0|[1-9][0-9]*)$/.exec(placement);
    if (unit && isApplicationName(unit[1]!)) return placement;
    if (/^[a-z]+:/.test(placement)) {
      doc.fail(p, `container placement "${placement}" is not supported yet`, `place the unit on a machine itself ("${placement.slice(placement.indexOf(':') + 1)}") or on a new machine ("new")`);
    }
    if (isApplicationName(placement)) doc.fail(p, `placement "${placement}" names an application, not a unit`, `name one of its units, e.g. "${placement}/0"`);
    return doc.fail(p, `invalid placement ${JSON.stringify(placement)}`, PLACEMENT_HINT);
  });
}

function parseAnnotations(doc: BundleDoc, path: YamlPath, v: unknown): Record<string, string | null> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) doc.fail(path, `expected a map of annotation name to value, got ${describeValue(v)}`, 'e.g. annotations: {gui-x: "450", gui-y: "150"}');
  return Object.fromEntries(Object.entries(v).map(([key, value]) => [key, value === null ? null : text(doc, [...path, key], value, 'annotation values are strings, e.g. gui-x: "450"')]));
}

function parseMachine(doc: BundleDoc, id: string, spec: unknown): MachinePart {
  const path = ['machines', id];
  if (!/^(0|[1-9][0-9]*)$/.test(id)) doc.fail(path, `invalid machine id "${id}"`, 'bundle machine ids are whole numbers: "0", "1", …');
  const machine: MachinePart = { constraints: '', annotations: {}, where: doc.where(path) };
  if (spec === null || spec === undefined) return machine;
  if (!isMap(spec)) doc.fail(path, `expected a map with constraints or annotations, got ${describeValue(spec)}`, 'e.g. "\\"0\\": {constraints: mem=4G}", or "\\"0\\": {}"');
  checkKeys(doc, path, spec, MACHINE_KEYS, 'machine');
  const constraints = spec['constraints'];
  if (constraints !== undefined && constraints !== null) machine.constraints = text(doc, [...path, 'constraints'], constraints, 'e.g. "constraints: mem=4G"');
  for (const [key, value] of Object.entries(parseAnnotations(doc, [...path, 'annotations'], spec['annotations']))) {
    if (value !== null) machine.annotations[key] = value;
  }
  return machine;
}

const ENDPOINT_RE = /^([^:\s]+)(?::([a-z0-9][a-z0-9_-]*))?$/i;

function parseRelation(doc: BundleDoc, path: YamlPath, v: unknown): RelationPart {
  const hint = 'a relation is a pair of "application" or "application:endpoint", e.g. ["wordpress:db", "mysql:db"]';
  if (!Array.isArray(v) || v.length !== 2) doc.fail(path, `expected a pair of endpoints, got ${Array.isArray(v) ? `a list of ${v.length}` : describeValue(v)}`, hint);
  const pair = v.map((e: unknown, i) => {
    const s = str(doc, [...path, i], e);
    const m = ENDPOINT_RE.exec(s);
    if (!m || !isApplicationName(m[1]!)) doc.fail([...path, i], `invalid endpoint ${JSON.stringify(s)}`, hint);
    return s;
  }) as [string, string];
  if (appOf(pair[0]) === appOf(pair[1])) {
    doc.fail(path, `relation relates application "${appOf(pair[0])}" to itself`, 'peer relations are created automatically; relate two different applications');
  }
  return { pair, where: doc.where(path) };
}

/** The application of `app` or `app:endpoint`. */
export function appOf(endpoint: string): string {
  const colon = endpoint.indexOf(':');
  return colon < 0 ? endpoint : endpoint.slice(0, colon);
}

/** Replaces `include-file://path` by the file's text and `include-base64://path` by its bytes in base64. */
function include(doc: BundleDoc, path: YamlPath, v: string, readFile: ReadFile): string {
  const m = /^include-(file|base64):\/\/(.+)$/.exec(v);
  if (!m) return v;
  const abs = resolvePath(doc.dir, m[2]!);
  let bytes: Buffer;
  try {
    bytes = readFile(abs);
  } catch (e) {
    return doc.fail(path, `cannot read ${abs} for ${v}: ${(e as Error).message}`, `the path is relative to the directory of ${doc.file}; check that the file exists and is readable`);
  }
  return m[1] === 'file' ? bytes.toString('utf8') : bytes.toString('base64');
}

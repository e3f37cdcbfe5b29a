/**
 * The `storage:` and `resources:` sections of metadata.yaml (juju/charm meta.go
 * parseStorage, resources.go), and the storage directives of `deploy --storage`
 * (juju/storage constraints.go). Sizes are in MiB, as Juju stores them.
 */
import { SigilError } from '../errors.ts';
import { describe, isMap, type YamlFile } from './yaml-file.ts';

export interface StorageSpec {
  name: string;
  type: 'filesystem' | 'block';
  description: string;
  shared: boolean;
  readOnly: boolean;
  /** Instances per unit: at least `countMin`, at most `countMax` (-1: no limit). */
  countMin: number;
  countMax: number;
  /** MiB; 0 when the charm sets none. */
  minimumSize: number;
  /** Filesystem only; '' when the charm sets none. */
  location: string;
  properties: string[];
}

export interface ResourceSpec {
  name: string;
  type: 'file' | 'oci-image';
  filename: string;
  description: string;
}

const SIZE_SUFFIX = 'MGTPEZY';

/**
 * Parses a size as Juju's utils.ParseSize does: a number with an optional suffix
 * M, G, T, P, E, Z or Y (binary multiples; no suffix means MiB). Returns MiB.
 */
export function parseSizeMiB(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([MGTPEZY])?(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const power = m[2] === undefined ? 0 : SIZE_SUFFIX.indexOf(m[2].toUpperCase());
  return Math.ceil(Number(m[1]) * 1024 ** power);
}

/** Go's humanize.Bytes of MiB (decimal units, as Juju's size errors print them): `1.0 GB`, `512 MB`. */
export function humanizeMiB(mib: number): string {
  const bytes = mib * 1_000_000;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  return humanizeBase(bytes, 1000, units);
}

/** Go's humanize.IBytes of MiB (binary units, as `juju storage` prints sizes): `1.0 GiB`, `100 MiB`. */
export function humanizeIMiB(mib: number): string {
  if (mib <= 0) return '';
  return humanizeBase(mib * 1024 * 1024, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB']);
}

function humanizeBase(n: number, base: number, units: string[]): string {
  if (n < 10) return `${n} B`;
  const e = Math.floor(Math.log(n) / Math.log(base));
  const val = Math.floor((n / base ** e) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${units[e]}` : `${val.toFixed(0)} ${units[e]}`;
}

export function parseStorageSection(f: YamlFile, v: unknown): Record<string, StorageSpec> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) f.fail(['storage'], `expected a map of storage names, got ${describe(v)}`, 'write e.g. "storage: {data: {type: filesystem, location: /srv/data}}"');
  const out: Record<string, StorageSpec> = {};
  for (const [name, raw] of Object.entries(v)) {
    const path = ['storage', name];
    if (!isMap(raw)) f.fail(path, `expected a map with "type", got ${describe(raw)}`, `write "${name}: {type: filesystem}" or "${name}: {type: block}"`);
    const type = raw['type'];
    if (type === undefined || type === null) f.missing(path, 'type', 'set "type: filesystem" or "type: block"');
    if (type !== 'filesystem' && type !== 'block') f.fail([...path, 'type'], `unexpected value ${describe(type)}`, 'storage type is "filesystem" or "block"');
    const spec: StorageSpec = { name, type, description: '', shared: false, readOnly: false, countMin: 1, countMax: 1, minimumSize: 0, location: '', properties: [] };
    const str = (key: string): string | undefined => {
      const x = raw[key];
      if (x === undefined || x === null) return undefined;
      if (typeof x !== 'string' && typeof x !== 'number') f.fail([...path, key], `expected a string, got ${describe(x)}`, `quote the value of ${key}`);
      return String(x);
    };
    const bool = (key: string): boolean => {
      const x = raw[key];
      if (x === undefined || x === null) return false;
      if (typeof x !== 'boolean') f.fail([...path, key], `expected true or false, got ${describe(x)}`, `write "${key}: true" or leave it out`);
      return x;
    };
    spec.description = str('description') ?? '';
    spec.shared = bool('shared');
    spec.readOnly = bool('read-only');
    const location = str('location');
    if (location !== undefined) {
      if (type === 'block') f.fail([...path, 'location'], `charm storage "${name}": location may not be specified for "type: block"`, 'a block device has no mount point; drop "location" or use "type: filesystem"');
      if (!location.startsWith('/') || location.split('/').includes('..')) f.fail([...path, 'location'], `location ${JSON.stringify(location)} is not an absolute path`, 'write an absolute path such as /srv/data');
      spec.location = location;
    }
    const min = str('minimum-size');
    if (min !== undefined) {
      const mib = parseSizeMiB(min);
      if (mib === undefined) f.fail([...path, 'minimum-size'], `invalid minimum-size ${JSON.stringify(min)}`, 'write a size with one of the suffixes M, G, T, P, E, Z, Y, e.g. "10G"');
      spec.minimumSize = mib;
    }
    const multiple = raw['multiple'];
    if (multiple !== undefined && multiple !== null) {
      const range = isMap(multiple) ? multiple['range'] : undefined;
      const text = typeof range === 'number' ? String(range) : range;
      const m = typeof text === 'string' ? /^(\d+)(?:(-)(\d+)?|(\+))?$/.exec(text) : null;
      if (!m) f.fail([...path, 'multiple'], `invalid multiple ${describe(multiple)}`, 'write "multiple: {range: <n>|<m>-<n>|<m>+|<m>-}"');
      spec.countMin = Number(m[1]);
      spec.countMax = m[4] !== undefined || (m[2] !== undefined && m[3] === undefined) ? -1 : m[3] !== undefined ? Number(m[3]) : spec.countMin;
      if (spec.countMax !== -1 && spec.countMax < spec.countMin) f.fail([...path, 'multiple'], `invalid range ${text}: the maximum is below the minimum`, 'write the smaller number first, e.g. "1-3"');
    }
    const props = raw['properties'];
    if (props !== undefined && props !== null) {
      if (!Array.isArray(props) || props.some((p) => p !== 'transient')) f.fail([...path, 'properties'], `invalid properties ${describe(props)}`, 'the only storage property is "transient"');
      spec.properties = props as string[];
    }
    out[name] = spec;
  }
  return out;
}

export function parseResourcesSection(f: YamlFile, v: unknown): Record<string, ResourceSpec> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) f.fail(['resources'], `expected a map of resource names, got ${describe(v)}`, 'write e.g. "resources: {theme: {type: file, filename: theme.zip}}"');
  const out: Record<string, ResourceSpec> = {};
  for (const [name, raw] of Object.entries(v)) {
    const path = ['resources', name];
    if (!isMap(raw)) f.fail(path, `expected a map, got ${describe(raw)}`, `write "${name}: {type: file, filename: ${name}.tar.gz}"`);
    const type = raw['type'] ?? 'file';
    if (type !== 'file' && type !== 'oci-image') f.fail([...path, 'type'], `unsupported resource type ${describe(type)}`, 'resource type is "file" or "oci-image"');
    const filename = raw['filename'];
    if (type === 'file') {
      if (typeof filename !== 'string' || filename === '') f.missing(path, 'filename', `resource "${name}" of type file needs "filename", e.g. "filename: ${name}.tar.gz"`);
      if (filename.includes('/') || filename === '.' || filename === '..') f.fail([...path, 'filename'], `filename ${JSON.stringify(filename)} must be a base name`, 'write a file name without directories, e.g. "theme.zip"');
    }
    const description = raw['description'];
    out[name] = { name, type, filename: typeof filename === 'string' ? filename : '', description: typeof description === 'string' ? description : '' };
  }
  return out;
}

/** One `--storage NAME=POOL,SIZE,COUNT` directive; each part optional and in any order (juju/storage ParseConstraints). */
export interface StorageDirective {
  pool?: string;
  /** MiB. */
  size?: number;
  count?: number;
}

const POOL_RE = /^[a-zA-Z]+[-?a-zA-Z0-9]*$/;

export function parseStorageDirective(name: string, text: string): StorageDirective {
  const d: StorageDirective = {};
  const bad = (what: string): never => {
    throw new SigilError('bad-request', `cannot parse storage directive "${name}=${text}": ${what}`, 'write NAME=[POOL,][SIZE,][COUNT], e.g. data=rootfs,10G,1 or data=2G');
  };
  if (text.trim() === '') bad('it is empty');
  for (const part of text.split(',')) {
    const p = part.trim();
    if (/^\d+$/.test(p)) {
      if (d.count !== undefined) bad('the count is given twice');
      d.count = Number(p);
    } else if (parseSizeMiB(p) !== undefined) {
      if (d.size !== undefined) bad('the size is given twice');
      d.size = parseSizeMiB(p)!;
    } else if (POOL_RE.test(p)) {
      if (d.pool !== undefined) bad('the pool is given twice');
      d.pool = p;
    } else bad(`"${p}" is neither a pool name, a size nor a count`);
  }
  return d;
}

/** Splits `NAME=DIRECTIVE` (the form of `--storage` and `add-storage`). */
export function splitStorageArg(arg: string): [string, StorageDirective] {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    throw new SigilError('bad-request', `invalid storage name ${JSON.stringify(name)}`, 'write NAME=[POOL,][SIZE,][COUNT] with the storage name from the charm\'s metadata.yaml');
  }
  return [name, eq < 0 ? {} : parseStorageDirective(name, arg.slice(eq + 1))];
}

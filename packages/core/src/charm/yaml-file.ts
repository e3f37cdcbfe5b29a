import { LineCounter, isScalar, parseDocument, visit, type Document, type Tags } from 'yaml';
import { SigilError, type ErrorCode } from '../errors.ts';

export type YamlPath = readonly (string | number)[];

/**
 * One parsed charm YAML file: its plain data, plus the means to point a user at the line
 * and key where something is wrong. Validation works on `data`; errors use `fail`.
 */
export interface YamlFile {
  readonly file: string;
  readonly data: unknown;
  /** The scalar at `path` as written in the file (`4.0`, `yes`), if it is a scalar. */
  source(path: YamlPath): string | undefined;
  /** Throws an 'invalid-charm' error located at `path`: `metadata.yaml:7: requires.db: …`. */
  fail(path: YamlPath, message: string, hint: string): never;
  /** Throws for a required `key` absent from the map at `parent`. */
  missing(parent: YamlPath, key: string, hint: string): never;
}

/**
 * Tags of the YAML 1.1 schema that Juju's YAML decoder (go-yaml v2) does not apply when
 * decoding into plain maps: timestamps and base-60 numbers stay strings there.
 */
function goYamlTags(tags: Tags): Tags {
  return tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME'));
}

/** Parser options for YAML as Juju reads it: YAML 1.1 scalars, duplicate keys rejected. */
export function jujuYamlOptions(lineCounter: LineCounter) {
  return { version: '1.1' as const, customTags: goYamlTags, lineCounter, prettyErrors: false, uniqueKeys: true };
}

/** A syntax error names the file, line and column, with what to check. */
export function failOnSyntaxError(code: ErrorCode, file: string, lines: LineCounter, doc: Document.Parsed): void {
  const first = doc.errors[0];
  if (!first) return;
  const pos = lines.linePos(first.pos[0]);
  throw new SigilError(
    code,
    `${file}:${pos.line}: malformed YAML at line ${pos.line}, column ${pos.col}: ${first.message}`,
    `fix the YAML syntax in ${file} near line ${pos.line}: check indentation, that every key is unique, and that quotes and brackets are closed`,
  );
}

/**
 * The document as plain data. Map keys are names (options, endpoints, machine ids), never
 * values: `n:`, `on:` or `0:` stay as written instead of turning into booleans or numbers.
 */
export function plainData(code: ErrorCode, file: string, doc: Document.Parsed): unknown {
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && typeof pair.key.value !== 'string' && pair.key.source !== undefined) pair.key.value = pair.key.source;
    },
  });
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SigilError(code, `${file}: cannot read YAML: ${(e as Error).message}`, `simplify ${file}: avoid deeply nested aliases`);
  }
}

/**
 * Parses YAML the way Juju reads charm files: YAML 1.1 scalar values (`yes`/`no`/`on`/`off`
 * are booleans, `010` is octal), map keys as written, duplicate keys rejected. Syntax
 * errors become 'invalid-charm' errors naming the file, line and column.
 */
export function loadYaml(file: string, text: string): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, jujuYamlOptions(lines));
  failOnSyntaxError('invalid-charm', file, lines, doc);
  const data = plainData('invalid-charm', file, doc);
  const nodeAt = (path: YamlPath): unknown => (path.length === 0 ? doc.contents : doc.getIn(path, true));
  // The 1-based line of the node at `path`, or of its nearest existing ancestor. The root
  // only locates errors about the root itself: a missing top-level key has no useful line.
  const line = (path: YamlPath): number | undefined => {
    for (let n = path.length; n >= Math.min(1, path.length); n--) {
      const node = nodeAt(path.slice(0, n)) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return {
    file,
    data,
    source(path) {
      const node = nodeAt(path);
      return isScalar(node) ? node.source : undefined;
    },
    fail(path, message, hint) {
      const at = line(path);
      const where = at === undefined ? file : `${file}:${at}`;
      const key = path.length === 0 ? '' : ` ${path.join('.')}:`;
      throw new SigilError('invalid-charm', `${where}:${key} ${message}`, hint);
    },
    missing(parent, key, hint) {
      if (parent.length === 0) throw new SigilError('invalid-charm', `${file}: missing required key "${key}"`, hint);
      return this.fail(parent, `missing required key "${key}"`, hint);
    },
  };
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as a user would recognise it in an error message. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a map';
}

import { dirOf } from './paths.ts';
import { LineCounter, isMap as isYamlMap, isScalar, isSeq, parseAllDocuments, type Document, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { SigilError } from '../errors.ts';
import type { BundleSource } from './types.ts';
import { failOnSyntaxError, jujuYamlOptions, plainData } from '../charm/yaml-file.ts';

export type YamlPath = readonly (string | number)[];

/**
 * One YAML document of a bundle file: its plain data, and the means to point at the line
 * and key where something is wrong. Lines count from the top of the file, not the document.
 */
export interface BundleDoc {
  readonly file: string;
  /** The absolute directory of the file, against which relative paths in it resolve. */
  readonly dir: string;
  readonly data: unknown;
  /** `file:line` of the key or item at `path` (or its nearest ancestor that exists). */
  where(path: YamlPath): string;
  /** The scalar at `path` as written (`1.10`, `yes`), if it is one. */
  source(path: YamlPath): string | undefined;
  /** Throws a 'bad-request' error: `bundle.yaml:7: applications.wp.num_units: message`. */
  fail(path: YamlPath, message: string, hint: string): never;
}

/** `applications.wordpress.to[1]`: the path a user would follow in the file. */
export function pathString(path: YamlPath): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? p : `${s}.${p}`), '');
}

/**
 * Parses every document of a bundle file the way Juju does (go-yaml v2: YAML 1.1 scalars,
 * duplicate keys rejected), keeping map keys as written so machine `0:` stays "0". A
 * syntax error names the file, line and column.
 */
export function parseBundleDocs(src: BundleSource): BundleDoc[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(src.text, jujuYamlOptions(lines));
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) failOnSyntaxError('bad-request', src.path, lines, doc);
  return list.map((doc) => toBundleDoc(src.path, doc, lines));
}

function toBundleDoc(file: string, doc: Document.Parsed, lines: LineCounter): BundleDoc {
  const data = plainData('bad-request', file, doc);
  const lineAt = (offset: number): number => lines.linePos(offset).line;
  // Pairs by key for each map node, built on first use: large bundles ask for many lines.
  const index = new WeakMap<object, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let byKey = index.get(map);
    if (byKey === undefined) {
      byKey = new Map(map.items.filter((p) => isScalar(p.key)).map((p) => [String((p.key as Scalar).value), p as Pair]));
      index.set(map, byKey);
    }
    return byKey.get(key);
  };
  // Walks the node tree, remembering the line of the deepest key or item found.
  const locate = (path: YamlPath): { line: number | undefined; node: unknown } => {
    let node: unknown = doc.contents;
    let line = (doc.contents as { range?: [number, number, number] } | null)?.range ? lineAt(doc.contents!.range![0]) : undefined;
    for (const seg of path) {
      if (isYamlMap(node)) {
        const pair = pairOf(node, String(seg));
        if (pair === undefined) return { line, node: undefined };
        if (isScalar(pair.key) && pair.key.range) line = lineAt(pair.key.range[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as { range?: [number, number, number] } | undefined;
        if (item === undefined) return { line, node: undefined };
        if (item.range) line = lineAt(item.range[0]);
        node = item;
      } else {
        return { line, node: undefined };
      }
    }
    return { line, node };
  };
  const where = (path: YamlPath): string => {
    const { line } = locate(path);
    return line === undefined ? file : `${file}:${line}`;
  };
  return {
    file,
    dir: dirOf(file),
    data,
    where,
    source(path) {
      const { node } = locate(path);
      return isScalar(node) ? node.source : undefined;
    },
    fail(path, message, hint) {
      const key = path.length === 0 ? '' : ` ${pathString(path)}:`;
      throw new SigilError('bad-request', `${where(path)}:${key} ${message}`, hint);
    },
  };
}

// One notion of "a map" and one way of naming a value in errors, shared with the charm files.
export { isMap, describe as describeValue } from '../charm/yaml-file.ts';

/** The valid key closest to a mistyped one, if it is near enough to be a likely typo. */
export function closest(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const v of valid) {
    const d = distance(key, v);
    if (d < bestDistance) [best, bestDistance] = [v, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

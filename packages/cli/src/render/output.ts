/**
 * Machine-readable output (`--format json|yaml`) shaped like Juju's, and small helpers
 * for the simple tabular listings (`sigil models`, `sigil controllers`, `sigil config`).
 * Command handlers return data; these turn it into text and never write to stdout.
 */
import { stringify } from 'yaml';
import { naturalCompare } from '@sigil/core';
import { type CellValue, type TableOptions, renderTable } from './table.ts';

export type OutputFormat = 'json' | 'yaml';

/**
 * JSON as `juju … --format json` prints it: one line, then a newline. YAML as Juju's
 * go-yaml prints it: block style, keys in insertion order, sequences not indented under
 * their key, long strings never folded, and strings YAML 1.1 would read as another type
 * (`"22.04"`, `"yes"`, `"0755"`) quoted, so scripts that parse the output with 1.1 or 1.2
 * parsers get the same values. Undefined fields are left out, as Juju's omitempty does.
 */
export function formatOutput(data: unknown, format: OutputFormat): string {
  if (format === 'json') return (JSON.stringify(data) ?? 'null') + '\n';
  return stringify(data, { version: '1.1', indent: 2, indentSeq: false, lineWidth: 0 });
}

/** Options for listings: an optional message printed in place of an empty table. */
export interface ListOptions extends TableOptions {
  empty?: string;
}

/**
 * A listing such as `sigil models`: a header line and one line per row, in the order
 * given. With no rows it returns `opts.empty` (plus a newline) if set, else ''.
 */
export function renderList(
  headers: readonly string[],
  rows: readonly (readonly CellValue[])[],
  opts: ListOptions = {},
): string {
  if (rows.length === 0) return opts.empty !== undefined ? opts.empty + '\n' : '';
  const { empty: _empty, ...table } = opts;
  return renderTable(headers, rows, table);
}

export type KeyValueEntries = Record<string, string | number | boolean> | readonly (readonly [string, CellValue])[];

/**
 * Two aligned columns, such as `sigil config` (`Key  Value`). A record is listed in natural
 * key order; an array of pairs keeps its order. `headers` is omitted for a bare listing.
 */
export function renderKeyValue(
  entries: KeyValueEntries,
  headers?: readonly [string, string],
  opts: TableOptions = {},
): string {
  const rows: (readonly CellValue[])[] = isPairs(entries)
    ? [...entries]
    : Object.keys(entries)
        .sort(naturalCompare)
        .map((k) => [k, String(entries[k])]);
  return renderTable(headers ?? [], rows, opts);
}

function isPairs(entries: KeyValueEntries): entries is readonly (readonly [string, CellValue])[] {
  return Array.isArray(entries);
}

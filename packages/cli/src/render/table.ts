/**
 * Juju's column layout: Go's text/tabwriter as configured by cmd/output.TabWriter
 * (minwidth 0, padding 2, pad with spaces), through juju/ansiterm so colour codes take no
 * width. Every cell but the last of a line is padded to its column's width plus two spaces;
 * the last cell of a line is written as is and never widens its column, which is why a
 * Message column is never padded. Trailing spaces are trimmed from every line.
 */
import { type Colour, paint, visibleWidth } from './colour.ts';

export type { Colour } from './colour.ts';

/** A cell with a colour, applied only when the table is rendered with `color: true`. */
export interface Cell {
  text: string;
  color?: Colour | undefined;
}

export type CellValue = string | Cell;

export interface TableOptions {
  /** Apply cell colours. The caller decides (never when stdout is not a TTY). */
  color?: boolean;
  /**
   * Zero-based columns whose cells are right-aligned, like Juju's Scale and Rev. As with
   * Go's tabwriter, the last cell of a line is never aligned.
   */
  alignRight?: readonly number[];
}

const PADDING = 2;

/** A coloured cell, or a plain one when `colour` is undefined. */
export function cell(text: string, colour?: Colour): Cell {
  return { text, color: colour };
}

function textOf(c: CellValue): string {
  return typeof c === 'string' ? c : c.text;
}

function show(c: CellValue, color: boolean): string {
  if (typeof c === 'string' || c.color === undefined || !color) return textOf(c);
  return paint(c.text, c.color);
}

/**
 * Lays out `headers` and `rows` as Juju's tabular output does and returns the lines, each
 * ending in a newline. Rows may hold fewer or more cells than `headers`: as with Go's
 * tabwriter, only the cells that are not last on their line decide a column's width.
 * Returns '' when there are no headers and no rows.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly CellValue[])[],
  opts: TableOptions = {},
): string {
  const lines: (readonly CellValue[])[] = headers.length > 0 ? [headers, ...rows] : [...rows];
  if (lines.length === 0) return '';
  const color = opts.color === true;
  const right = new Set(opts.alignRight ?? []);

  const widths: number[] = [];
  for (const line of lines) {
    for (let j = 0; j < line.length - 1; j++) {
      const w = visibleWidth(textOf(line[j]!));
      if (w > (widths[j] ?? 0)) widths[j] = w;
    }
  }

  let out = '';
  for (const line of lines) {
    let text = '';
    for (let j = 0; j < line.length; j++) {
      const c = line[j]!;
      const shown = show(c, color);
      if (j === line.length - 1) {
        text += shown;
        break;
      }
      const gap = ' '.repeat((widths[j] ?? 0) - visibleWidth(textOf(c)));
      text += (right.has(j) ? gap + shown : shown + gap) + ' '.repeat(PADDING);
    }
    out += text.trimEnd() + '\n';
  }
  return out;
}

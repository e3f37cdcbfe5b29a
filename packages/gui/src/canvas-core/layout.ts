/** Canvas geometry: where application nodes sit, and where a new one goes. */
export interface Point {
  x: number;
  y: number;
}

export const NODE_WIDTH = 220;
/**
 * The height of a node whose name fits on one line. A longer name wraps instead of being
 * cut, so a node can be taller: GAP_Y leaves room for a name of three lines.
 */
export const NODE_HEIGHT = 84;
const GAP_X = 120;
const GAP_Y = 60;

/** The position saved in an application's `gui-x`/`gui-y` annotations (as Juju's GUI saves it), if any. */
export function annotatedPosition(annotations: Record<string, string>): Point | undefined {
  const x = Number(annotations['gui-x']);
  const y = Number(annotations['gui-y']);
  return annotations['gui-x'] !== undefined && annotations['gui-y'] !== undefined && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : undefined;
}

export function positionAnnotations(p: Point): Record<string, string> {
  return { 'gui-x': String(Math.round(p.x)), 'gui-y': String(Math.round(p.y)) };
}

function overlaps(a: Point, b: Point): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH + GAP_X / 2 && Math.abs(a.y - b.y) < NODE_HEIGHT + GAP_Y / 2;
}

/**
 * The first grid cell, row by row, whose node would not overlap any placed node. Rows are
 * `columns` wide so a model fills a screen-shaped area rather than one long line.
 */
export function freeSpot(placed: readonly Point[], columns: number): Point {
  for (let i = 0; ; i++) {
    const p = { x: (i % columns) * (NODE_WIDTH + GAP_X), y: Math.floor(i / columns) * (NODE_HEIGHT + GAP_Y) };
    if (!placed.some((q) => overlaps(p, q))) return p;
  }
}

export function gridColumns(count: number): number {
  return Math.max(3, Math.ceil(Math.sqrt(count * 1.5)));
}

/**
 * Positions for every application: saved (or just dragged) positions are kept; the rest
 * are placed, in name order, on free grid cells. The result depends only on the inputs,
 * so every render and every browser agrees.
 */
export function layout(apps: readonly { name: string; annotations: Record<string, string> }[], moved: ReadonlyMap<string, Point> = new Map()): Map<string, Point> {
  const out = new Map<string, Point>();
  const rest: string[] = [];
  for (const a of apps) {
    const p = moved.get(a.name) ?? annotatedPosition(a.annotations);
    if (p) out.set(a.name, p);
    else rest.push(a.name);
  }
  const placed = [...out.values()];
  const columns = gridColumns(apps.length);
  for (const name of rest.sort()) {
    const p = freeSpot(placed, columns);
    placed.push(p);
    out.set(name, p);
  }
  return out;
}

export interface Box extends Point {
  width: number;
  height: number;
}

export type Side = 'left' | 'right' | 'top' | 'bottom';

export interface EdgeEnds {
  source: Point & { side: Side };
  target: Point & { side: Side };
}

/**
 * Where a relation's line leaves one node and meets the other: the middles of the sides
 * that face each other, so a line never loops round behind a node whatever way round the
 * two applications sit (a provider to the right of its requirer included). Side by side
 * they face left and right; one above the other, top and bottom.
 */
export function facingEnds(a: Box, b: Box): EdgeEnds {
  const dx = b.x + b.width / 2 - (a.x + a.width / 2);
  const dy = b.y + b.height / 2 - (a.y + a.height / 2);
  // Apart more horizontally than the nodes are wide relative to their height: side by side.
  const horizontal = Math.abs(dx) / ((a.width + b.width) / 2) >= Math.abs(dy) / ((a.height + b.height) / 2);
  const mid = (n: Box, side: Side): Point & { side: Side } => {
    if (side === 'left') return { x: n.x, y: n.y + n.height / 2, side };
    if (side === 'right') return { x: n.x + n.width, y: n.y + n.height / 2, side };
    if (side === 'top') return { x: n.x + n.width / 2, y: n.y, side };
    return { x: n.x + n.width / 2, y: n.y + n.height, side };
  };
  if (horizontal) return dx >= 0 ? { source: mid(a, 'right'), target: mid(b, 'left') } : { source: mid(a, 'left'), target: mid(b, 'right') };
  return dy >= 0 ? { source: mid(a, 'bottom'), target: mid(b, 'top') } : { source: mid(a, 'top'), target: mid(b, 'bottom') };
}

import { createContext, memo, useContext } from 'react';
import { BaseEdge, EdgeLabelRenderer, Position, getBezierPath, useInternalNode, type Edge, type EdgeProps, type InternalNode } from '@xyflow/react';
import { facingEnds, type Box, type Side } from '../canvas-core/layout.ts';
import { statusColour } from '../canvas-core/status.ts';

export interface RelationEdgeData extends Record<string, unknown> {
  interface: string;
  error: boolean;
  container: boolean;
  dying: boolean;
  /** The faults `sigil chaos add` put on it, in a few words; empty when none. */
  chaos: string;
}

/** Amber: a fault someone put there on purpose, not an error. */
const CHAOS_COLOUR = '#b45f06';

export type RelationEdgeType = Edge<RelationEdgeData, 'relation'>;

const POSITION: Record<Side, Position> = { left: Position.Left, right: Position.Right, top: Position.Top, bottom: Position.Bottom };

function box(n: InternalNode): Box {
  return { ...n.internals.positionAbsolute, width: n.measured.width ?? 0, height: n.measured.height ?? 0 };
}

/** What clicking a relation's label does (the label is HTML outside the edge, so React Flow's edge click misses it). */
export const SelectRelation = createContext<(id: string) => void>(() => {});

/**
 * A relation: a curve labelled with its interface, red when either side has a unit in
 * error, dashed for a subordinate's container-scoped relation, amber and dotted with a
 * lightning mark while under chaos. The label is HTML (no SVG text measuring), and
 * clicking it selects the relation.
 */
export const RelationEdge = memo(function RelationEdge(p: EdgeProps<RelationEdgeType>) {
  // The line joins the sides the two nodes turn to each other (not always provider-right to
  // requirer-left, which loops behind both when the provider sits to the right).
  const from = useInternalNode(p.source);
  const to = useInternalNode(p.target);
  const ends = from && to ? facingEnds(box(from), box(to)) : undefined;
  const [path, x, y] = ends
    ? getBezierPath({ sourceX: ends.source.x, sourceY: ends.source.y, sourcePosition: POSITION[ends.source.side], targetX: ends.target.x, targetY: ends.target.y, targetPosition: POSITION[ends.target.side] })
    : getBezierPath(p);
  const select = useContext(SelectRelation);
  const d = p.data!;
  const colour = d.error ? statusColour('error') : d.chaos ? CHAOS_COLOUR : '#505a5f';
  const dash = d.chaos ? '2 5' : d.container ? '6 4' : undefined;
  return (
    <>
      <BaseEdge id={p.id} path={path} style={{ stroke: colour, strokeWidth: p.selected ? 4 : 2, opacity: d.dying ? 0.4 : 1, ...(dash ? { strokeDasharray: dash } : {}) }} interactionWidth={16} />
      <EdgeLabelRenderer>
        <div
          className={`relation-label nopan${d.error ? ' error' : ''}${d.chaos ? ' chaos' : ''}${p.selected ? ' selected' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)`, borderColor: colour, color: colour }}
          data-testid={`relation-label-${p.id}`}
          data-error={d.error}
          data-chaos={d.chaos || undefined}
          title={d.chaos ? `chaos: ${d.chaos}` : undefined}
          onClick={() => select(p.id)}
        >
          {d.chaos ? `⚡ ${d.interface}` : d.interface}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});

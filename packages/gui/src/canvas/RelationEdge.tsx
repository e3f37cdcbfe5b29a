import { createContext, memo, useContext } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
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

/** What clicking a relation's label does (the label is HTML outside the edge, so React Flow's edge click misses it). */
export const SelectRelation = createContext<(id: string) => void>(() => {});

/**
 * A relation: a curve labelled with its interface, red when either side has a unit in
 * error, dashed for a subordinate's container-scoped relation, amber and dotted with a
 * lightning mark while under chaos. The label is HTML (no SVG text measuring), and
 * clicking it selects the relation.
 */
export const RelationEdge = memo(function RelationEdge(p: EdgeProps<RelationEdgeType>) {
  const [path, x, y] = getBezierPath(p);
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

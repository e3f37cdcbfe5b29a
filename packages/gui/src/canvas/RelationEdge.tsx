import { createContext, memo, useContext } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from '@xyflow/react';
import { statusColour } from '../canvas-core/status.ts';

export interface RelationEdgeData extends Record<string, unknown> {
  interface: string;
  error: boolean;
  container: boolean;
  dying: boolean;
}

export type RelationEdgeType = Edge<RelationEdgeData, 'relation'>;

/** What clicking a relation's label does (the label is HTML outside the edge, so React Flow's edge click misses it). */
export const SelectRelation = createContext<(id: string) => void>(() => {});

/**
 * A relation: a curve labelled with its interface, red when either side has a unit in
 * error, dashed for a subordinate's container-scoped relation. The label is HTML (no SVG
 * text measuring), and clicking it selects the relation.
 */
export const RelationEdge = memo(function RelationEdge(p: EdgeProps<RelationEdgeType>) {
  const [path, x, y] = getBezierPath(p);
  const select = useContext(SelectRelation);
  const d = p.data!;
  const colour = d.error ? statusColour('error') : '#505a5f';
  return (
    <>
      <BaseEdge id={p.id} path={path} style={{ stroke: colour, strokeWidth: p.selected ? 4 : 2, opacity: d.dying ? 0.4 : 1, ...(d.container ? { strokeDasharray: '6 4' } : {}) }} interactionWidth={16} />
      <EdgeLabelRenderer>
        <div
          className={`relation-label nopan${d.error ? ' error' : ''}${p.selected ? ' selected' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)`, borderColor: colour, color: colour }}
          data-testid={`relation-label-${p.id}`}
          data-error={d.error}
          onClick={() => select(p.id)}
        >
          {d.interface}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});

import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Background, Controls, MiniMap, ReactFlow, applyNodeChanges, useNodesInitialized, useReactFlow, useStore, type Connection, type Edge, type FitViewOptions, type NodeChange } from '@xyflow/react';
import type { GuiModel } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import { NODE_HEIGHT, NODE_WIDTH, annotatedPosition, layout, positionAnnotations, type Point } from '../canvas-core/layout.ts';
import { compatiblePairs, type EndpointPair, type RelateSide } from '../canvas-core/relate.ts';
import { relationInError, statusColour, type AppSummary } from '../canvas-core/status.ts';
import { AppNode, type AppNodeData, type AppNodeType } from './AppNode.tsx';
import { RelateChoice } from './RelateChoice.tsx';
import { describeFaults } from '@sigil/api';
import { RelationEdge, SelectRelation, type RelationEdgeData, type RelationEdgeType } from './RelationEdge.tsx';
import type { Selection } from '../pages/Inspector.tsx';

const nodeTypes = { app: AppNode };
const PRO_OPTIONS = { hideAttribution: true };
/**
 * Fitting the model leaves the corners the controls (bottom left) and the minimap (bottom
 * right, 200 × 150 px) cover free of nodes: the minimap's column on the right, a margin elsewhere.
 */
const FIT_VIEW: FitViewOptions = { maxZoom: 1, padding: { top: '40px', right: '250px', bottom: '40px', left: '70px' } };
const edgeTypes = { relation: RelationEdge };

const miniMapColour = (n: { data: Record<string, unknown> }) => statusColour(String((n.data as AppNodeData).status));

function sameData(a: AppNodeData, b: AppNodeData): boolean {
  return (Object.keys(a) as (keyof AppNodeData)[]).every((k) => a[k] === b[k]);
}

function sameEdgeData(a: RelationEdgeData, b: RelationEdgeData): boolean {
  return a.interface === b.interface && a.error === b.error && a.container === b.container && a.dying === b.dying && a.chaos === b.chaos;
}

/**
 * The model on a React Flow canvas. It takes only the collections it draws, so deltas that
 * touch units alone (the common case) do not re-render it unless a summary changed.
 */
export const Canvas = memo(function Canvas({ model, summaries, selection, onSelect }: {
  model: Pick<GuiModel, 'apps' | 'relations' | 'charms'>;
  summaries: ReadonlyMap<string, AppSummary>;
  selection: Selection | null;
  onSelect: (s: Selection | null) => void;
}) {
  const { api, model: modelName, report, canWrite } = useApp();
  // Positions dragged in this browser, kept until the annotation round-trips.
  const [moved, setMoved] = useState<ReadonlyMap<string, Point>>(new Map());
  const [connecting, setConnecting] = useState(false);
  const [choice, setChoice] = useState<EndpointPair[] | null>(null);
  // The minimap repeats every node; it follows the first paint instead of delaying it.
  const [showMiniMap, setShowMiniMap] = useState(false);
  useEffect(() => {
    const id = requestAnimationFrame(() => setShowMiniMap(true));
    return () => cancelAnimationFrame(id);
  }, []);
  const apps = useMemo(() => Object.values(model.apps), [model.apps]);
  // A dragged position is held until its annotation comes back (or the application goes), then the model rules again.
  useEffect(() => {
    setMoved((m) => {
      const settled = [...m].filter(([name, p]) => {
        const saved = model.apps[name] ? annotatedPosition(model.apps[name].annotations) : undefined;
        return !model.apps[name] || (saved !== undefined && saved.x === Math.round(p.x) && saved.y === Math.round(p.y));
      });
      return settled.length === 0 ? m : new Map([...m].filter(([name]) => !settled.some(([s]) => s === name)));
    });
  }, [model.apps]);
  const positions = useMemo(() => layout(apps, moved), [apps, moved]);
  const selectedApp = selection?.kind === 'app' ? selection.name : selection?.kind === 'unit' ? selection.name.split('/')[0] : undefined;

  const derived = useMemo(() => apps.map((a): AppNodeType => {
    const charm = model.charms[a.charmUrl];
    const s = summaries.get(a.name);
    return {
      id: a.name,
      type: 'app',
      // A known width, and the height of a one-line name until the node is measured (a long
      // name wraps and makes it taller), let React Flow draw nodes in the first pass.
      width: NODE_WIDTH,
      initialHeight: NODE_HEIGHT,
      position: positions.get(a.name) ?? { x: 0, y: 0 },
      selected: a.name === selectedApp,
      data: {
        name: a.name,
        charm: charm?.name ?? a.charmUrl,
        icon: charm?.icon,
        units: s?.units ?? 0,
        status: s?.status.current ?? 'unknown',
        message: s?.status.message ?? '',
        exposed: a.exposed,
        subordinate: charm?.subordinate === true,
        connecting,
      },
    };
  }), [apps, model.charms, summaries, positions, selectedApp, connecting]);

  // React Flow owns measured sizes and drag state; the model owns everything else.
  const [nodes, setNodes] = useState<AppNodeType[]>(derived);
  useEffect(() => {
    setNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      const next = derived.map((d) => {
        const p = byId.get(d.id);
        if (!p) return d;
        const position = p.dragging ? p.position : d.position;
        if (sameData(p.data, d.data) && p.selected === d.selected && p.position.x === position.x && p.position.y === position.y) return p;
        return { ...p, data: d.data, selected: d.selected === true, position };
      });
      // An unchanged array spares React Flow a store update (which re-runs every node's selectors).
      return next.length === prev.length && next.every((n, i) => n === prev[i]) ? prev : next;
    });
  }, [derived]);

  // A new application out of sight brings the whole model into view, so it is never deployed off-screen.
  const flow = useReactFlow();
  const box = useRef<HTMLDivElement>(null);
  const known = useRef<Set<string> | null>(null);
  useEffect(() => {
    const before = known.current;
    known.current = new Set(apps.map((a) => a.name));
    if (before === null || box.current === null) return;
    const added = apps.filter((a) => !before.has(a.name)).map((a) => positions.get(a.name)).filter((p) => p !== undefined);
    const { x, y, zoom } = flow.getViewport();
    const [w, h] = [box.current.clientWidth / zoom, box.current.clientHeight / zoom];
    const hidden = added.some((p) => p.x < -x / zoom || p.y < -y / zoom || p.x + NODE_WIDTH > -x / zoom + w || p.y + NODE_HEIGHT > -y / zoom + h);
    if (hidden) requestAnimationFrame(() => void flow.fitView({ ...FIT_VIEW, duration: 200 }));
  }, [apps, positions, flow]);

  // The first fit follows the canvas's size until the user touches the canvas: a fit made
  // before the page had its final size (seen under load: zoomed out to the minimum, the
  // model in a corner under the minimap) is made again once the size is known.
  const touched = useRef(false);
  const onTouch = useCallback(() => { touched.current = true; }, []);
  const [paneWidth, paneHeight] = [useStore((s) => s.width), useStore((s) => s.height)];
  const measured = useNodesInitialized();
  useEffect(() => {
    if (measured && paneWidth > 0 && paneHeight > 0 && !touched.current) void flow.fitView(FIT_VIEW);
  }, [measured, paneWidth, paneHeight, flow]);

  // Applications placed automatically get their position saved, as if dropped there, so they
  // stay put when others arrive and bundles keep them. Each is tried once per page. A read
  // user's page only shows where they would go.
  const placed = useRef(new Set<string>());
  useEffect(() => {
    if (!canWrite) return;
    const unsaved = apps.filter((a) => a.life === 'alive' && !placed.current.has(a.name) && !moved.has(a.name) && annotatedPosition(a.annotations) === undefined);
    if (unsaved.length === 0) return;
    const timer = setTimeout(() => {
      for (const a of unsaved) {
        placed.current.add(a.name);
        const p = positions.get(a.name);
        if (p) api.request('POST /api/models/:model/applications/:app/annotations', { params: { model: modelName, app: a.name }, body: positionAnnotations(p) }).catch(report);
      }
    }, 500);
    return () => clearTimeout(timer);
  }, [apps, positions, moved, api, modelName, report, canWrite]);

  const onNodesChange = useCallback((changes: NodeChange<AppNodeType>[]) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== 'select' && c.type !== 'remove'), ns));
  }, []);

  const onNodeDragStop = useCallback((_e: unknown, _n: AppNodeType, dragged: AppNodeType[]) => {
    setMoved((m) => new Map([...m, ...dragged.map((n) => [n.id, n.position] as const)]));
    for (const n of dragged) {
      api.request('POST /api/models/:model/applications/:app/annotations', { params: { model: modelName, app: n.id }, body: positionAnnotations(n.position) }).catch(report);
    }
  }, [api, modelName, report]);

  // Edges keep their identity while unchanged, so a unit's status change re-renders no edge that did not change colour.
  const edgeCache = useRef(new Map<string, RelationEdgeType>());
  const edgesRef = useRef<RelationEdgeType[]>([]);
  const edges = useMemo(() => {
    const cache = edgeCache.current;
    const next = Object.values(model.relations).filter((r) => r.endpoints.length === 2).map((r): RelationEdgeType => {
      const [a, b] = r.endpoints as [typeof r.endpoints[0], typeof r.endpoints[0]];
      const [from, to] = a.role === 'requirer' ? [b, a] : [a, b];
      const edge: RelationEdgeType = {
        id: `rel-${r.id}`,
        type: 'relation',
        source: from.app,
        target: to.app,
        selected: selection?.kind === 'relation' && selection.id === r.id,
        data: { interface: a.interface, error: relationInError(r, summaries), container: a.scope === 'container', dying: r.life !== 'alive', chaos: r.chaos ? describeFaults(r.chaos.faults) : '' },
      };
      const old = cache.get(edge.id);
      return old && old.source === edge.source && old.target === edge.target && old.selected === edge.selected && sameEdgeData(old.data!, edge.data!) ? old : edge;
    });
    const before = [...cache.values()];
    edgeCache.current = new Map(next.map((e) => [e.id, e]));
    // An unchanged array spares React Flow a store update, as for nodes.
    return next.length === before.length && next.every((e, i) => e === before[i]) ? edgesRef.current : (edgesRef.current = next);
  }, [model.relations, summaries, selection]);

  const side = useCallback((app: string): RelateSide | undefined => {
    const a = model.apps[app];
    const c = a && model.charms[a.charmUrl];
    return c ? { app, subordinate: c.subordinate, endpoints: c.endpoints } : undefined;
  }, [model.apps, model.charms]);
  const pairs = useCallback((c: Connection | Edge) => {
    const from = side(c.source);
    const to = c.target === null ? undefined : side(c.target);
    return from && to ? compatiblePairs(from, to, Object.values(model.relations)) : [];
  }, [side, model.relations]);

  const relate = useCallback((p: EndpointPair) => {
    setChoice(null);
    api.request('POST /api/models/:model/relations', { params: { model: modelName }, body: { a: p.a, b: p.b } }).catch(report);
  }, [api, modelName, report]);

  const onConnect = useCallback((c: Connection) => {
    const options = pairs(c);
    if (options.length === 1) relate(options[0]!);
    else if (options.length > 1) setChoice(options);
    else report(new Error(`${c.source} and ${c.target} have no compatible endpoints left to relate`));
  }, [pairs, relate, report]);

  // Stable handlers: a new function prop is a React Flow store update, which re-runs every node's selectors.
  const selectRelation = useCallback((edgeId: string) => onSelect({ kind: 'relation', id: Number(edgeId.slice('rel-'.length)) }), [onSelect]);
  const onNodeClick = useCallback((_e: unknown, n: AppNodeType) => onSelect({ kind: 'app', name: n.id }), [onSelect]);
  const onEdgeClick = useCallback((_e: unknown, e: Edge) => selectRelation(e.id), [selectRelation]);
  const onPaneClick = useCallback(() => onSelect(null), [onSelect]);
  const onConnectStart = useCallback(() => setConnecting(true), []);
  const onConnectEnd = useCallback(() => setConnecting(false), []);
  const isValidConnection = useCallback((c: Connection | Edge) => pairs(c).length > 0, [pairs]);

  return (
    <SelectRelation.Provider value={selectRelation}>
    <div className="canvas" data-testid="canvas" ref={box} onPointerDownCapture={onTouch} onWheelCapture={onTouch} onKeyDownCapture={onTouch}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeDragStop={onNodeDragStop}
        onNodeClick={onNodeClick}
        onEdgeClick={onEdgeClick}
        onPaneClick={onPaneClick}
        onConnect={onConnect}
        onConnectStart={onConnectStart}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        nodesDraggable={canWrite}
        nodesConnectable={canWrite}
        connectionRadius={40}
        minZoom={0.1}
        fitView
        fitViewOptions={FIT_VIEW}
        deleteKeyCode={null}
        proOptions={PRO_OPTIONS}
      >
        <Background />
        <Controls showInteractive={false} />
        {showMiniMap && <MiniMap pannable zoomable nodeColor={miniMapColour} />}
      </ReactFlow>
      {apps.length === 0 && <div className="empty" data-testid="empty-model">This model is empty.{canWrite && <> <b>Deploy a charm</b> or import a <b>Bundle</b> to start.</>}</div>}
      {choice && <RelateChoice pairs={choice} onPick={relate} onCancel={() => setChoice(null)} />}
    </div>
    </SelectRelation.Provider>
  );
});

import { memo } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { statusColour } from '../canvas-core/status.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../canvas-core/layout.ts';
import { useApp } from '../app-context.tsx';

export interface AppNodeData extends Record<string, unknown> {
  name: string;
  charm: string;
  icon: string | undefined;
  units: number;
  status: string;
  message: string;
  exposed: boolean;
  subordinate: boolean;
  /** A relation is being dragged: the whole node becomes a drop target. */
  connecting: boolean;
}

export type AppNodeType = Node<AppNodeData, 'app'>;

function iconSrc(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/**
 * An application: icon, name, unit count and status colour. The name is shown whole,
 * wrapping onto more lines when it is long (the node grows), and again on hover. Drag from
 * the dot on the right to another application to relate them (users who may change the
 * model: a read user's node shows no dot).
 */
export const AppNode = memo(function AppNode({ data, selected }: NodeProps<AppNodeType>) {
  const { canWrite } = useApp();
  const colour = statusColour(data.status);
  return (
    <div
      className={`app-node${selected ? ' selected' : ''}${data.subordinate ? ' subordinate' : ''}`}
      style={{ width: NODE_WIDTH, minHeight: NODE_HEIGHT, borderColor: colour }}
      data-testid={`node-${data.name}`}
      data-status={data.status}
      title={`${data.name}\n${data.message ? `${data.status}: ${data.message}` : data.status}`}
    >
      <Handle type="target" position={Position.Left} isConnectableStart={false} className={`drop-target${data.connecting ? ' active' : ''}`} />
      <div className="status-bar" style={{ background: colour }} />
      {data.icon ? <img className="icon" src={iconSrc(data.icon)} alt="" draggable={false} /> : <div className="icon placeholder">{data.charm.slice(0, 2)}</div>}
      <div className="text">
        <div className="name">{data.name}</div>
        <div className="meta">
          <span data-testid={`units-${data.name}`}>{data.subordinate ? 'subordinate' : `${data.units} unit${data.units === 1 ? '' : 's'}`}</span>
          {data.exposed && <span className="exposed" title="exposed"> · exposed</span>}
        </div>
        <div className="status-text" style={{ color: colour }}>{data.status}</div>
      </div>
      {canWrite ? (
        <Handle type="source" position={Position.Right} className="relate-handle" data-testid={`relate-${data.name}`} title="drag to another application to relate" />
      ) : (
        // Edges still need a source handle to start from; a read user's cannot be dragged and is not shown.
        <Handle type="source" position={Position.Right} className="relate-handle read-only" isConnectable={false} />
      )}
    </div>
  );
});

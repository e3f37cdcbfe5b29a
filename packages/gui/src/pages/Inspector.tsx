import type { GuiModel } from '@sigil/api';
import type { AppSummary } from '../canvas-core/status.ts';
import { AppInspector } from './AppInspector.tsx';
import { UnitInspector } from './UnitInspector.tsx';
import { RelationInspector } from './RelationInspector.tsx';

export type Selection = { kind: 'app'; name: string } | { kind: 'unit'; name: string } | { kind: 'relation'; id: number };

/** The right-hand panel: whatever is selected on the canvas. */
export function Inspector({ model, summaries, selection, onSelect }: {
  model: GuiModel;
  summaries: ReadonlyMap<string, AppSummary>;
  selection: Selection;
  onSelect: (s: Selection | null) => void;
}) {
  let body;
  if (selection.kind === 'app') {
    const app = model.apps[selection.name];
    body = app ? <AppInspector key={app.name} model={model} app={app} summary={summaries.get(app.name)} onSelect={onSelect} /> : <Gone what={`application ${selection.name}`} />;
  } else if (selection.kind === 'unit') {
    const unit = model.units[selection.name];
    body = unit ? <UnitInspector key={unit.name} model={model} unit={unit} onSelect={onSelect} /> : <Gone what={`unit ${selection.name}`} />;
  } else {
    const r = model.relations[String(selection.id)];
    body = r ? <RelationInspector relation={r} onSelect={onSelect} /> : <Gone what={`relation ${selection.id}`} />;
  }
  return (
    <aside className="inspector" data-testid="inspector">
      <button className="close" onClick={() => onSelect(null)} aria-label="close">×</button>
      {body}
    </aside>
  );
}

function Gone({ what }: { what: string }) {
  return <p className="muted">The {what} is no longer in the model.</p>;
}

export function StatusBadge({ current, message }: { current: string; message?: string }) {
  return (
    <span className={`badge status-${current}`} title={message}>
      {current}
    </span>
  );
}

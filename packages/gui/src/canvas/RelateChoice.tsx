import type { EndpointPair } from '../canvas-core/relate.ts';

/** Several endpoint pairs fit the drag: the user picks one. */
export function RelateChoice({ pairs, onPick, onCancel }: { pairs: EndpointPair[]; onPick: (p: EndpointPair) => void; onCancel: () => void }) {
  return (
    <div className="modal-backdrop" onClick={onCancel}>
      <div className="modal small" onClick={(e) => e.stopPropagation()} data-testid="relate-choice">
        <h3>Which relation?</h3>
        <p>These applications can be related in more than one way.</p>
        <ul className="choices">
          {pairs.map((p) => (
            <li key={`${p.a} ${p.b}`}>
              <button onClick={() => onPick(p)}>{p.a} ↔ {p.b} <span className="muted">({p.interface}{p.container ? ', container' : ''})</span></button>
            </li>
          ))}
        </ul>
        <button onClick={onCancel}>Cancel</button>
      </div>
    </div>
  );
}

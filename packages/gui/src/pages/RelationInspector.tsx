import { describeFaults, type GuiRelation } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import type { Selection } from './Inspector.tsx';

/** A relation picked on the canvas: its endpoints, and removing it. */
export function RelationInspector({ relation, onSelect }: { relation: GuiRelation; onSelect: (s: Selection | null) => void }) {
  const { api, model, report, notify, canWrite } = useApp();
  const remove = () => {
    api.request('POST /api/models/:model/relations/remove', { params: { model }, body: { a: String(relation.id) } }).then(() => {
      notify(`Removing relation ${relation.key}`);
      onSelect(null);
    }, report);
  };
  return (
    <div data-testid="relation-inspector">
      <h2>Relation {relation.id}</h2>
      <p className="muted">{relation.life === 'alive' ? 'joined' : 'being removed'}</p>
      <table className="kv">
        <tbody>
          {relation.endpoints.map((e) => (
            <tr key={`${e.app}:${e.name}`}>
              <th>{e.role}</th>
              <td><a onClick={() => onSelect({ kind: 'app', name: e.app })}>{e.app}</a>:{e.name}</td>
              <td className="muted">{e.interface}{e.scope === 'container' ? ' (container)' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {relation.chaos && (
        <section className="chaos" data-testid="relation-chaos">
          <h3>⚡ Under chaos</h3>
          <p>{describeFaults(relation.chaos.faults)}</p>
          <table className="kv">
            <tbody>
              {relation.chaos.listeners.map((l) => (
                <tr key={`${l.unit}:${l.port}`}>
                  <th>{l.unit}</th>
                  <td>{l.host}:{l.port}</td>
                  <td className="muted">through {l.listen}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">Remove with <code>sigil chaos remove {relation.endpoints.find((e) => e.role === 'requirer')?.app} {relation.endpoints.find((e) => e.role !== 'requirer')?.app}</code></p>
        </section>
      )}
      {canWrite && relation.endpoints.length === 2 && relation.life === 'alive' && (
        <button className="danger" onClick={remove} data-testid="remove-relation">Remove relation</button>
      )}
    </div>
  );
}

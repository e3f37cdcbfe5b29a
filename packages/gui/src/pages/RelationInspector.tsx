import type { GuiRelation } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import { Api } from '../api/client.ts';
import type { Selection } from './Inspector.tsx';

/** A relation picked on the canvas: its endpoints, and removing it. */
export function RelationInspector({ relation, onSelect }: { relation: GuiRelation; onSelect: (s: Selection | null) => void }) {
  const { api, model, report, notify, canWrite } = useApp();
  const remove = () => {
    api.post(Api.m(model, '/relations/remove'), { a: String(relation.id) }).then(() => {
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
      {canWrite && relation.endpoints.length === 2 && relation.life === 'alive' && (
        <button className="danger" onClick={remove} data-testid="remove-relation">Remove relation</button>
      )}
    </div>
  );
}

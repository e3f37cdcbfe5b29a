import { useEffect, useRef, useState } from 'react';
import type { GuiUnit, ShowUnitDoc } from '@sigil/api';
import { useApp } from '../app-context.tsx';

type Bag = Record<string, string>;
type RelationInfo = ShowUnitDoc[string]['relation-info'];

/**
 * Every relation bag the unit can see, as `sigil show-unit` reports it: its own unit
 * bag, its application's bag (when it is the leader), the remote application's bag and
 * each remote unit's. Re-read when one of its relations changes (relation-set does that).
 */
export function RelationData({ unit }: { unit: GuiUnit }) {
  const { api, model, report, feed } = useApp();
  const [info, setInfo] = useState<RelationInfo | undefined>(undefined);
  const relations = feed.state.model?.relations;
  const mine = Object.values(relations ?? {}).filter((r) => r.endpoints.some((e) => e.app === unit.app));
  const stamp = useIdentityStamp(mine);
  useEffect(() => {
    api.request('GET /api/models/:model/unit', { params: { model }, query: { name: unit.name } })
      .then((doc) => setInfo(doc[unit.name]?.['relation-info'] ?? []), report);
  }, [api, model, unit.name, report, stamp]);
  if (info === undefined) return <div className="muted">Loading…</div>;
  if (info.length === 0) return <div className="muted">{unit.name} has no relations.</div>;
  return (
    <div className="relation-data" data-testid="relation-data">
      {info.map((r) => (
        <section key={r['relation-id']}>
          <h4>{r.endpoint} → {r['related-endpoint']} <span className="muted">(relation {r['relation-id']})</span></h4>
          <BagTable title={`${unit.name} (local unit)`} bag={r['local-unit'].data} />
          {r['local-application-data'] && <BagTable title={`${unit.app} (local application)`} bag={r['local-application-data']} />}
          <BagTable title="remote application" bag={r['application-data']} />
          {Object.entries(r['related-units']).map(([u, d]) => <BagTable key={u} title={`${u} (remote unit${d['in-scope'] ? '' : ', left'})`} bag={d.data} />)}
        </section>
      ))}
    </div>
  );
}

function BagTable({ title, bag }: { title: string; bag: Bag }) {
  const entries = Object.entries(bag);
  return (
    <div className="bag">
      <div className="bag-title">{title}</div>
      {entries.length === 0 ? <div className="muted">(empty)</div> : (
        <table className="kv"><tbody>{entries.map(([k, v]) => <tr key={k}><th>{k}</th><td>{v}</td></tr>)}</tbody></table>
      )}
    </div>
  );
}

/** A number that changes when any item is replaced: each relation delta is a new object, so this moves exactly when a bag may have. */
function useIdentityStamp(items: readonly object[]): number {
  const prev = useRef<readonly object[]>([]);
  const n = useRef(0);
  if (items.length !== prev.current.length || items.some((x, i) => x !== prev.current[i])) {
    prev.current = items;
    n.current++;
  }
  return n.current;
}

import { useEffect, useState } from 'react';
import type { AuditUnitSummary, GuiModel, GuiUnit } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import { unitView } from '../canvas-core/status.ts';
import { StatusBadge, type Selection } from './Inspector.tsx';
import { UnitLog } from './UnitLog.tsx';
import { RelationData } from './RelationData.tsx';
import { ActionForm } from './ActionForm.tsx';
import { StatusLog } from './StatusLog.tsx';

type Tab = 'log' | 'history' | 'relations' | 'actions';

/** One unit: its status, resolve when in error, its log, its status history, its relation data and its actions. */
export function UnitInspector({ model, unit, onSelect }: { model: GuiModel; unit: GuiUnit; onSelect: (s: Selection | null) => void }) {
  const { api, model: m, report, notify, canWrite } = useApp();
  const [tab, setTab] = useState<Tab>('log');
  const app = model.apps[unit.app];
  const charm = app && model.charms[app.charmUrl];
  const machine = unit.machine === null ? undefined : model.machines[unit.machine];
  const v = unitView(unit, machine);
  // The unit's software inventory counts (issue 19), read when the unit is shown.
  const [audit, setAudit] = useState<AuditUnitSummary | undefined>();
  useEffect(() => {
    let live = true;
    api.request('GET /api/models/:model/inventory', { params: { model: m } }).then((rows) => {
      if (live) setAudit(rows.find((r) => r.unit === unit.name));
    }, () => {});
    return () => {
      live = false;
    };
  }, [api, m, unit.name]);
  const resolve = () => api.request('POST /api/models/:model/resolve', { params: { model: m }, body: { unit: unit.name, retry: true } }).then(() => notify(`Retrying the failed hook on ${unit.name}`), report);
  return (
    <div data-testid="unit-inspector">
      <p><a onClick={() => onSelect({ kind: 'app', name: unit.app })}>← {unit.app}</a></p>
      <h2>{unit.name}{app?.leader === unit.name && <span className="leader" title="leader">*</span>}</h2>
      <table className="kv">
        <tbody>
          <tr><th>workload</th><td><StatusBadge current={v.workload.current} /> <span data-testid="unit-message">{v.workload.message}</span></td></tr>
          <tr><th>agent</th><td>{v.agent.current} {v.agent.message}</td></tr>
          <tr><th>machine</th><td>{unit.machine ?? ''} {machine?.address ?? ''}</td></tr>
          <tr><th>ports</th><td>{[...unit.ports, ...unit.published].join(' ')}</td></tr>
          <tr>
            <th>software</th>
            <td data-testid="unit-audit">
              {audit?.counts
                ? `${audit.counts.packages} packages, ${audit.counts.modified} modified package files, ${audit.counts.embedded} embedded copies (collected ${new Date(audit.counts.collectedAt).toISOString().slice(0, 16).replace('T', ' ')})`
                : audit?.pending ? 'inventory being collected' : 'no inventory yet (sigil audit collect)'}
            </td>
          </tr>
        </tbody>
      </table>
      {v.workload.current === 'error' && canWrite && <button onClick={resolve} data-testid="resolve">Resolve (retry hook)</button>}
      <div className="tabs">
        {(canWrite ? (['log', 'history', 'relations', 'actions'] as const) : (['log', 'history', 'relations'] as const)).map((t) => (
          <button key={t} className={t === tab ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>{t}</button>
        ))}
      </div>
      {tab === 'log' && <UnitLog unit={unit.name} />}
      {tab === 'history' && <StatusLog unit={unit} />}
      {tab === 'relations' && <RelationData unit={unit} />}
      {tab === 'actions' && charm && canWrite && <ActionForm unit={unit.name} actions={charm.actions} />}
    </div>
  );
}

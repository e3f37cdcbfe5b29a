import { useState } from 'react';
import type { GuiApp, GuiModel } from '@sigil/api';
import type { CharmProvenance } from '@sigil/core';
import { naturalCompare } from '@sigil/core';
import { useApp } from '../app-context.tsx';
import { unitView, type AppSummary } from '../canvas-core/status.ts';
import { StatusBadge, type Selection } from './Inspector.tsx';
import { AppConfig } from './AppConfig.tsx';

/** One application: status, expose, scale, its units and its configuration. */
export function AppInspector({ model, app, summary, onSelect }: {
  model: GuiModel;
  app: GuiApp;
  summary: AppSummary | undefined;
  onSelect: (s: Selection | null) => void;
}) {
  const { api, model: m, report, notify, canWrite } = useApp();
  const [busy, setBusy] = useState(false);
  const charm = model.charms[app.charmUrl];
  const units = Object.values(model.units).filter((u) => u.app === app.name && u.life === 'alive').sort((a, b) => naturalCompare(a.name, b.name));
  const params = { model: m, app: app.name };
  const run = (p: Promise<unknown>, done?: string) => {
    setBusy(true);
    p.then(() => done && notify(done), report).finally(() => setBusy(false));
  };
  const addUnit = () => run(api.request('POST /api/models/:model/applications/:app/units', { params, body: { n: 1, to: [] } }));
  const removeUnit = () => {
    const last = units[units.length - 1];
    if (last) run(api.request('POST /api/models/:model/units/remove', { params: { model: m }, body: { names: [last.name] } }), `Removing ${last.name}`);
  };
  const removeApp = () => {
    if (!confirm(`Remove application ${app.name} and its ${units.length} unit(s)?`)) return;
    run(api.request('DELETE /api/models/:model/applications/:app', { params }), `Removing ${app.name}`);
  };
  const status = summary?.status ?? { current: 'unknown', message: '' };
  return (
    <div data-testid="app-inspector">
      <h2>{app.name}</h2>
      <p className="muted">{charm ? `${charm.name} (${app.charmUrl})` : app.charmUrl}{app.life !== 'alive' ? ` · ${app.life}` : ''}</p>
      <p>
        <StatusBadge current={status.current} message={status.message} /> <span data-testid="app-status-message">{status.message}</span>
      </p>
      {canWrite ? (
        <div className="row">
          <label className="switch">
            <input type="checkbox" checked={app.exposed} disabled={busy} onChange={(e) => run(api.request('POST /api/models/:model/applications/:app/expose', { params, body: { exposed: e.target.checked } }))} data-testid="expose-toggle" />
            exposed
          </label>
          {!charm?.subordinate && (
            <span className="scale">
              units{' '}
              <button onClick={removeUnit} disabled={busy || units.length === 0} data-testid="remove-unit" aria-label="remove a unit">−</button>
              <span data-testid="unit-count">{units.length}</span>
              <button onClick={addUnit} disabled={busy} data-testid="add-unit" aria-label="add a unit">+</button>
            </span>
          )}
        </div>
      ) : (
        <p className="muted" data-testid="app-facts">{app.exposed ? 'exposed' : 'not exposed'} · {units.length} unit{units.length === 1 ? '' : 's'}</p>
      )}
      <h3>Units</h3>
      <table className="units" data-testid="units-table">
        <thead>
          <tr><th>unit</th><th>workload</th><th>agent</th><th>machine</th><th>address</th><th>ports</th></tr>
        </thead>
        <tbody>
          {units.map((u) => {
            const machine = u.machine === null ? undefined : model.machines[u.machine];
            const v = unitView(u, machine);
            return (
              <tr key={u.name} onClick={() => onSelect({ kind: 'unit', name: u.name })} className="clickable" data-testid={`unit-row-${u.name}`}>
                <td>{u.name}{app.leader === u.name && <span className="leader" title="leader">*</span>}</td>
                <td><StatusBadge current={v.workload.current} /> <span className="message">{v.workload.message}</span></td>
                <td>{v.agent.current}</td>
                <td>{u.machine ?? ''}</td>
                <td>{machine?.address ?? ''}</td>
                <td>{[...u.ports, ...u.published].join(' ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {charm?.provenance && <Provenance p={charm.provenance} />}
      {charm && Object.keys(charm.config).length > 0 && <AppConfig app={app.name} options={charm.config} />}
      {canWrite && <p><button className="danger" onClick={removeApp} disabled={busy || app.life !== 'alive'} data-testid="remove-app">Remove application</button></p>}
    </div>
  );
}

/** Where a collected charm came from, and whether its files still match the collect-info hashes. */
function Provenance({ p }: { p: CharmProvenance }) {
  const changed = [...p.modified.map((f) => `modified: ${f}`), ...p.missing.map((f) => `missing: ${f}`)];
  return (
    <div data-testid="charm-provenance">
      <h3>Charm provenance</h3>
      <dl className="facts">
        <dt>source</dt><dd>{p.source}</dd>
        {p.commit !== undefined && <><dt>commit</dt><dd><code>{p.commit}</code></dd></>}
        {p.digest !== undefined && <><dt>sha256</dt><dd><code>{p.digest}</code></dd></>}
        <dt>collected</dt><dd>{p.collected}</dd>
        <dt>files</dt>
        <dd data-testid="provenance-matches">{p.matches ? `all ${p.files} match the recorded hashes` : `${p.modified.length} modified, ${p.missing.length} missing of ${p.files}`}</dd>
      </dl>
      {changed.length > 0 && <ul className="message">{changed.map((c) => <li key={c}>{c}</li>)}</ul>}
    </div>
  );
}

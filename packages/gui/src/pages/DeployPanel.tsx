import { useEffect, useMemo, useState } from 'react';
import type { GuiCharmPage, GuiCharmSummary, GuiModel } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import { freeSpot, gridColumns, layout, positionAnnotations } from '../canvas-core/layout.ts';
import { checkAppName, checkConfigForm, formValue, suggestAppName, type FieldError } from '../store/forms.ts';
import { ConfigFields } from './ConfigFields.tsx';
import { Readme } from './Readme.tsx';

/** Search the controller's charms, read one's page, configure it and deploy it. */
export function DeployPanel({ model, onClose, onDeployed }: { model: GuiModel; onClose: () => void; onDeployed: (app: string) => void }) {
  const { api, report } = useApp();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<GuiCharmSummary[] | undefined>(undefined);
  const [page, setPage] = useState<GuiCharmPage | null>(null);
  useEffect(() => {
    const t = setTimeout(() => api.request('GET /api/gui/charms', { query: { q: query } }).then(setResults, report), 150);
    return () => clearTimeout(t);
  }, [api, query, report]);
  const open = (id: string) => api.request('GET /api/gui/charm', { query: { id } }).then(setPage, report);

  return (
    <aside className="deploy-panel" data-testid="deploy-panel">
      <button className="close" onClick={onClose} aria-label="close">×</button>
      {page ? (
        <CharmPage page={page} model={model} onBack={() => setPage(null)} onDeployed={(app) => { onDeployed(app); onClose(); }} />
      ) : (
        <>
          <h2>Deploy a charm</h2>
          <input autoFocus type="search" placeholder="search by name, summary or interface" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="charm-search" />
          {results === undefined ? <p className="muted">Searching…</p> : results.length === 0 ? <p className="muted">No charm matches “{query}”.</p> : (
            <ul className="results">
              {results.map((c) => (
                <li key={c.id} onClick={() => open(c.id)} data-testid={`charm-result-${c.name}`}>
                  {c.icon ? <img className="icon" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(c.icon)}`} alt="" /> : <div className="icon placeholder">{c.name.slice(0, 2)}</div>}
                  <div>
                    <div className="name">{c.name} <span className="muted">{c.source}</span></div>
                    <div className="summary">{c.summary}</div>
                    <div className="muted small">{c.interfaces.join(', ')}</div>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </aside>
  );
}

function CharmPage({ page, model, onBack, onDeployed }: { page: GuiCharmPage; model: GuiModel; onBack: () => void; onDeployed: (app: string) => void }) {
  const { api, model: m, report, notify } = useApp();
  const taken = useMemo(() => new Set(Object.keys(model.apps)), [model.apps]);
  const [app, setApp] = useState(() => suggestAppName(page.name, taken));
  const [units, setUnits] = useState(page.subordinate ? '0' : '1');
  const [form, setForm] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(Object.entries(page.config).map(([k, o]) => [k, o.type === 'boolean' ? formValue(o, o.default) : ''])));
  const [errors, setErrors] = useState<Record<string, FieldError>>({});
  const [busy, setBusy] = useState(false);

  const deploy = () => {
    const defaults = Object.fromEntries(Object.entries(page.config).map(([k, o]) => [k, o.default]));
    const checked = checkConfigForm(page.config, Object.fromEntries(Object.entries(form).filter(([, v]) => v !== '')), defaults);
    const nameError = checkAppName(app);
    const n = Number(units);
    const unitError: FieldError | undefined = Number.isInteger(n) && n >= 0 ? undefined : { message: `unit count must be a whole number, got "${units}"` };
    const all = { ...checked.errors, ...(nameError ? { 'app-name': nameError } : {}), ...(unitError ? { units: unitError } : {}) };
    setErrors(all);
    if (Object.keys(all).length > 0) return;
    const placed = [...layout(Object.values(model.apps)).values()];
    const at = freeSpot(placed, gridColumns(placed.length + 1));
    setBusy(true);
    api.request('POST /api/gui/models/:model/deploy', { params: { model: m }, body: { charm: page.id, app, numUnits: n, config: checked.set, annotations: positionAnnotations(at) } })
      .then(() => {
        notify(`Deploying ${app}`);
        onDeployed(app);
      }, report)
      .finally(() => setBusy(false));
  };

  return (
    <div className="charm-page" data-testid="charm-page">
      <p><a onClick={onBack}>← search</a></p>
      <h2>{page.name}</h2>
      <p>{page.summary}</p>
      <form onSubmit={(e) => { e.preventDefault(); deploy(); }} className="deploy-form">
        <div className={`field${errors['app-name'] ? ' invalid' : ''}`}>
          <label htmlFor="app-name">application name</label>
          <input id="app-name" value={app} onChange={(e) => setApp(e.target.value)} data-testid="deploy-app-name" />
          {errors['app-name'] && <div className="error">{errors['app-name'].message}<div className="hint">hint: {errors['app-name'].hint}</div></div>}
        </div>
        {!page.subordinate && (
          <div className={`field${errors.units ? ' invalid' : ''}`}>
            <label htmlFor="unit-count">units</label>
            <input id="unit-count" type="number" min={0} value={units} onChange={(e) => setUnits(e.target.value)} data-testid="deploy-units" />
            {errors.units && <div className="error">{errors.units.message}</div>}
          </div>
        )}
        {Object.keys(page.config).length > 0 && <h3>Configuration</h3>}
        <ConfigFields options={page.config} form={form} errors={errors} defaults onChange={(k, v) => { setForm({ ...form, [k]: v }); setErrors(({ [k]: _, ...rest }) => rest); }} />
        <button type="submit" disabled={busy} data-testid="deploy-submit">Deploy</button>
      </form>
      <h3>Endpoints</h3>
      <table className="kv">
        <tbody>
          {page.endpoints.map((e) => (
            <tr key={e.name}><th>{e.name}</th><td>{e.role}</td><td>{e.interface}{e.scope === 'container' ? ' (container)' : ''}</td></tr>
          ))}
        </tbody>
      </table>
      {Object.keys(page.actions).length > 0 && (
        <>
          <h3>Actions</h3>
          <ul>{Object.values(page.actions).map((a) => <li key={a.name}><b>{a.name}</b> {a.description}</li>)}</ul>
        </>
      )}
      <h3>README</h3>
      {page.readme ? <Readme text={page.readme} /> : <p className="muted">{page.description}</p>}
    </div>
  );
}

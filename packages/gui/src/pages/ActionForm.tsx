import { useEffect, useState } from 'react';
import type { OperationDoc } from '@sigil/api';
import type { ActionSpec } from '@sigil/core';
import { useApp } from '../app-context.tsx';
import { ApiError } from '../api/client.ts';

interface Param {
  type?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
}

/** Form text to a parameter value by the schema's type; anything unparsable is left for the schema check to name. */
function paramValue(p: Param, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  if (p.type === 'integer' || p.type === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (p.type === 'array' || p.type === 'object') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Runs an action from a form built from actions.yaml, and shows its result when the unit
 * reports it. Parameters are checked by the controller against the action's schema (the
 * schema compiler needs eval, which the page's content security policy forbids); its
 * error names the parameter and shows beside the form.
 */
export function ActionForm({ unit, actions }: { unit: string; actions: Record<string, ActionSpec> }) {
  const { api, model, feed, report } = useApp();
  const names = Object.keys(actions).sort();
  const [name, setName] = useState(names[0] ?? '');
  const [form, setForm] = useState<Record<string, string | boolean>>({});
  const [error, setError] = useState<{ message: string; hint?: string | undefined } | null>(null);
  const [op, setOp] = useState<OperationDoc | null>(null);
  const spec = actions[name];
  const props = (spec?.schema.properties ?? {}) as Record<string, Param>;
  const required = new Set((spec?.schema.required ?? []) as string[]);

  // The operation's record changes as the unit runs it; each change arrives as a delta.
  useEffect(() => {
    if (op === null || op.status === 'completed' || op.status === 'failed') return;
    return feed.onOperation((key) => {
      if (key === `${unit}#${op.id}`) api.request('GET /api/models/:model/operations/:id', { params: { model, id: String(op.id) } }).then(setOp, report);
    });
  }, [op, unit, feed, api, model, report]);

  if (names.length === 0) return <div className="muted">This charm has no actions.</div>;
  const run = () => {
    if (!spec) return;
    const params = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== '').map(([k, v]) => [k, paramValue(props[k] ?? {}, v)]));
    setError(null);
    api.request('POST /api/models/:model/actions', { params: { model }, body: { unit, name, params } }).then(setOp, (e) => {
      if (e instanceof ApiError && e.code === 'invalid-params') setError({ message: e.message, hint: e.hint });
      else report(e);
    });
  };
  return (
    <div className="action-form" data-testid="action-form">
      <label>
        action{' '}
        <select value={name} onChange={(e) => { setName(e.target.value); setForm({}); setOp(null); setError(null); }} data-testid="action-select">
          {names.map((n) => <option key={n}>{n}</option>)}
        </select>
      </label>
      {spec?.description && <p className="description">{spec.description}</p>}
      {Object.entries(props).map(([k, p]) => (
        <div key={k} className="field">
          <label htmlFor={`param-${k}`}>{k}{required.has(k) ? ' *' : ''} <span className="muted">({p.type ?? 'any'})</span></label>
          {p.enum ? (
            <select id={`param-${k}`} value={String(form[k] ?? '')} onChange={(e) => setForm({ ...form, [k]: e.target.value })}>
              <option value="" />
              {p.enum.map((v) => <option key={String(v)}>{String(v)}</option>)}
            </select>
          ) : p.type === 'boolean' ? (
            <input id={`param-${k}`} type="checkbox" checked={form[k] === true} onChange={(e) => setForm({ ...form, [k]: e.target.checked })} />
          ) : (
            <input id={`param-${k}`} value={String(form[k] ?? '')} placeholder={p.default === undefined ? '' : JSON.stringify(p.default)} onChange={(e) => setForm({ ...form, [k]: e.target.value })} data-testid={`param-${k}`} />
          )}
          {p.description && <div className="description">{p.description}</div>}
        </div>
      ))}
      {error && <div className="error" data-testid="action-error">{error.message}{error.hint && <div className="hint">hint: {error.hint}</div>}</div>}
      <button onClick={run} data-testid="action-run">Run {name}</button>
      {op && (
        <div className="action-result" data-testid="action-result" data-status={op.status}>
          <div>operation {op.id}: <b>{op.status}</b> {op.message}</div>
          {op.log.map((l, i) => <div key={i} className="muted">{l.message}</div>)}
          {Object.keys(op.results).length > 0 && <pre>{JSON.stringify(op.results, null, 2)}</pre>}
        </div>
      )}
    </div>
  );
}

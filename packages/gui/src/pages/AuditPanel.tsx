import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { useApp } from '../app-context.tsx';

import type { ApiSpec, AuditRecord, QueryOf } from '@sigil/api';

/** The newest records shown; narrower filters reach further back. */
export const AUDIT_LIMIT = 500;

interface Filter {
  user: string;
  model: string;
}

/** The query for a filter: empty fields match everything. */
export function auditQuery(f: Filter, limit = AUDIT_LIMIT): QueryOf<ApiSpec<'GET /api/audit'>> {
  return {
    ...(f.user.trim() !== '' ? { user: f.user.trim() } : {}),
    ...(f.model.trim() !== '' ? { model: f.model.trim() } : {}),
    limit: String(limit),
  };
}

/** A refused call (401, 403): what the trail is most often read for. */
export const refused = (r: AuditRecord) => r.status === 401 || r.status === 403;

/** As `sigil audit-log` prints it: UTC, to the second. */
const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);

/**
 * The controller's audit trail (`sigil audit-log`), for controller admins: every mutating
 * call and every refused one, newest first, filtered by user and model. The page offers it
 * only to superusers; the server refuses anyone else anyway.
 */
export function AuditPanel({ onClose }: { onClose: () => void }) {
  const { api, report } = useApp();
  const [draft, setDraft] = useState<Filter>({ user: '', model: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [shown, setShown] = useState<{ filter: Filter; records: AuditRecord[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Only the newest request may fill the table: an answer to an older filter that arrives
  // late would otherwise show its rows under the new filter.
  const latest = useRef(0);

  const load = useCallback((f: Filter) => {
    const ticket = ++latest.current;
    setBusy(true);
    api.request('GET /api/audit', { query: auditQuery(f) }).then((rs) => {
      if (ticket !== latest.current) return;
      // The controller answers oldest first.
      setShown({ filter: f, records: [...rs].reverse() });
      setError(null);
    }, (e: unknown) => {
      if (ticket !== latest.current) return;
      setShown(null);
      setError(e instanceof Error ? e.message : String(e));
      report(e);
    }).finally(() => {
      if (ticket === latest.current) setBusy(false);
    });
  }, [api, report]);
  useEffect(() => load(filter), [load, filter]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilter({ ...draft });
  };
  const records = shown?.records ?? null;
  const refusals = records?.filter(refused).length ?? 0;

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal audit" onClick={(e) => e.stopPropagation()} data-testid="audit-panel">
        <button className="close" onClick={onClose} aria-label="close">×</button>
        <h2>Audit trail</h2>
        <p className="muted">Every call that changed something, and every refused call, newest first (as <code>sigil audit-log</code>).</p>
        <form className="audit-filter" onSubmit={apply}>
          <label>user <input value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} placeholder="any" data-testid="audit-user" /></label>
          <label>model <input value={draft.model} onChange={(e) => setDraft({ ...draft, model: e.target.value })} placeholder="any" data-testid="audit-model" /></label>
          <button type="submit" disabled={busy} data-testid="audit-apply">Show</button>
          <button type="button" disabled={busy} onClick={() => load(filter)} data-testid="audit-refresh">Refresh</button>
        </form>
        {error !== null && <div className="error" data-testid="audit-error">{error}</div>}
        {shown !== null && (
          // What the rows answer, so a reader (or a test) can tell a new filter has been applied.
          <p className="muted" data-testid="audit-count" data-user={shown.filter.user.trim()} data-model={shown.filter.model.trim()}>
            {shown.records.length} record{shown.records.length === 1 ? '' : 's'}{refusals > 0 ? `, ${refusals} refused` : ''}{shown.records.length >= AUDIT_LIMIT ? ` (the newest ${AUDIT_LIMIT}: narrow the filter for older ones)` : ''}
          </p>
        )}
        {records !== null && records.length === 0 && <p data-testid="audit-empty">No audit records match.</p>}
        {records !== null && records.length > 0 && (
          <table className="audit-table" data-testid="audit-table">
            <thead>
              <tr><th>Time (UTC)</th><th>User</th><th>Address</th><th>Call</th><th>Model</th><th>Summary</th><th>Status</th></tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.id} className={refused(r) ? 'refused' : undefined} data-testid="audit-row" data-refused={refused(r) ? 'true' : 'false'} data-status={r.status}>
                  <td className="nowrap">{when(r.at)}</td>
                  <td>{r.user}</td>
                  <td>{r.address}</td>
                  <td className="call">{r.method} {r.route}</td>
                  <td>{r.model || '-'}</td>
                  <td>{r.summary}</td>
                  <td>{refused(r) ? <strong title="refused">{r.status}</strong> : r.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

import { useEffect, useState } from 'react';
import type { GuiUnit, StatusHistoryEntry } from '@sigil/api';
import { useApp } from '../app-context.tsx';
import { StatusBadge } from './Inspector.tsx';

/**
 * The unit's status history, as `sigil show-status-log UNIT` prints it (Time, Type, Status,
 * Message; the last 50 entries, newest last). Re-read whenever the unit's statuses change.
 */
export function StatusLog({ unit }: { unit: GuiUnit }) {
  const { api, model, report } = useApp();
  const [entries, setEntries] = useState<StatusHistoryEntry[] | undefined>(undefined);
  const stamp = `${unit.workload.current}\0${unit.workload.message}\0${unit.agent.current}\0${unit.agent.message}`;
  useEffect(() => {
    api.request('GET /api/models/:model/status-history', { params: { model }, query: { entity: unit.name, type: 'unit', n: '50' } }).then(setEntries, report);
  }, [api, model, unit.name, report, stamp]);
  if (entries === undefined) return <div className="muted">Loading…</div>;
  if (entries.length === 0) return <div className="muted">No status history yet.</div>;
  return (
    <table className="status-log" data-testid="status-log">
      <thead><tr><th>Time</th><th>Type</th><th>Status</th><th>Message</th></tr></thead>
      <tbody>
        {entries.map((e, i) => (
          <tr key={i}>
            <td>{new Date(e.since).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
            <td>{e.type}</td>
            <td><StatusBadge current={e.status} /></td>
            <td>{e.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

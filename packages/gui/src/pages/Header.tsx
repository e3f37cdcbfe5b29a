import { memo, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { useApp } from '../app-context.tsx';
import type { FeedStatus } from '../store/feed.ts';

/** The model picker, the live indicator, the deploy and bundle buttons, the audit trail (controller admins), who is logged in and logging out. */
export const Header = memo(function Header({ status, reason, onDeploy, onBundle, onAudit }: { status: FeedStatus; reason: string; onDeploy: () => void; onBundle: () => void; onAudit: () => void }) {
  const { api, model, replicas, report, user, canWrite, superuser, logout } = useApp();
  useSyncExternalStore(useCallback((cb: () => void) => replicas.subscribe(cb), [replicas]), () => replicas.version);
  const alive = replicas.alive.length;
  const [models, setModels] = useState<string[]>([model]);
  useEffect(() => {
    // An ended session takes the page back to the login form (Api.onSessionEnded).
    api.request('GET /api/models').then((ms) => setModels(ms.map((m) => m.name)), report);
  }, [api, report]);
  const live = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', failed: `not watching: ${reason}` }[status];
  return (
    <header className="header">
      <span className="brand">Sigil</span>
      <label>
        model{' '}
        <select value={model} onChange={(e) => (location.search = `?model=${encodeURIComponent(e.target.value)}`)} data-testid="model-select">
          {models.map((m) => <option key={m}>{m}</option>)}
        </select>
      </label>
      <span className={`live ${status}`} data-testid="live">{live}</span>
      {alive > 1 && (
        <span className="replicas" data-testid="replicas" title="the controller process serving this page, and how many are alive: if it stops answering, the page moves to another">
          {replicas.served ?? '?'} of {alive} replicas
        </span>
      )}
      <span className="spacer" />
      {canWrite ? <button onClick={onDeploy} data-testid="open-deploy">Deploy a charm</button> : <span className="read-only" data-testid="read-only" title="you have read access to this model">read only</span>}
      <button onClick={onBundle} data-testid="open-bundle">Bundle</button>
      {superuser && <button onClick={onAudit} data-testid="open-audit" title="the controller's audit trail">Audit</button>}
      <span className="user" data-testid="user">{user}</span>
      <button onClick={logout} data-testid="logout">Log out</button>
    </header>
  );
});

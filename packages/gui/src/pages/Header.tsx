import { memo, useEffect, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { ApiError } from '../api/client.ts';
import type { FeedStatus } from '../store/feed.ts';

/** The model picker, the live indicator and the deploy and bundle buttons. */
export const Header = memo(function Header({ status, reason, onDeploy, onBundle }: { status: FeedStatus; reason: string; onDeploy: () => void; onBundle: () => void }) {
  const { api, model, report } = useApp();
  const [models, setModels] = useState<string[]>([model]);
  useEffect(() => {
    api.get<{ name: string }[]>('/api/models').then((ms) => setModels(ms.map((m) => m.name)), (e: unknown) => {
      // A token from another controller (or an old one) cannot work: back to the login page.
      if (e instanceof ApiError && e.code === 'unauthorized') {
        sessionStorage.removeItem('sigil-token');
        location.reload();
      } else report(e);
    });
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
      <span className="spacer" />
      <button onClick={onDeploy} data-testid="open-deploy">Deploy a charm</button>
      <button onClick={onBundle} data-testid="open-bundle">Bundle</button>
    </header>
  );
});

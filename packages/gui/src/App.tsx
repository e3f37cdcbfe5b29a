import { useCallback, useMemo, useRef, useState } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { ApiError, type Api } from './api/client.ts';
import { Ctx, useModel, type AppCtx } from './app-context.tsx';
import type { ModelFeed } from './store/feed.ts';
import type { ReplicaList } from './store/failover.ts';
import { reuseSummaries, summarize, type AppSummary } from './canvas-core/status.ts';
import { Canvas } from './canvas/Canvas.tsx';
import { Inspector, type Selection } from './pages/Inspector.tsx';
import { DeployPanel } from './pages/DeployPanel.tsx';
import { BundlePanel } from './pages/BundlePanel.tsx';
import { Header } from './pages/Header.tsx';
import { AuditPanel } from './pages/AuditPanel.tsx';

interface Toast {
  id: number;
  kind: 'error' | 'info';
  message: string;
  hint?: string | undefined;
}

let toastId = 0;

/**
 * The whole page for one model; `feed` is already following it (see main.tsx). A user who
 * may only read the model gets the same page without the controls that change it.
 */
export function App({ api, model, feed, replicas, user, canWrite, superuser, logout }: { api: Api; model: string; feed: ModelFeed; replicas: ReplicaList; user: string; canWrite: boolean; superuser: boolean; logout: () => void }) {
  const state = useModel(feed);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [panel, setPanel] = useState<'deploy' | 'bundle' | 'audit' | null>(null);

  const push = useCallback((t: Omit<Toast, 'id'>) => {
    const id = ++toastId;
    setToasts((ts) => [...ts.slice(-3), { ...t, id }]);
    setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== id)), t.kind === 'error' ? 12_000 : 4_000);
  }, []);
  const ctx: AppCtx = useMemo(() => ({
    api,
    model,
    feed,
    replicas,
    user,
    canWrite,
    superuser,
    logout,
    report: (e: unknown) => push({ kind: 'error', message: e instanceof Error ? e.message : String(e), hint: e instanceof ApiError ? e.hint : undefined }),
    notify: (message: string) => push({ kind: 'info', message }),
  }), [api, model, feed, replicas, user, canWrite, superuser, logout, push]);

  const previous = useRef<ReadonlyMap<string, AppSummary>>(new Map());
  const summaries = useMemo(() => (previous.current = state ? reuseSummaries(previous.current, summarize(state)) : new Map()), [state]);

  // Only the collections the canvas draws, so unit-only deltas leave it alone.
  const canvasModel = useMemo(() => (state ? { apps: state.apps, relations: state.relations, charms: state.charms } : undefined), [state?.apps, state?.relations, state?.charms]);
  const onDeploy = useCallback(() => setPanel((p) => (p === 'deploy' ? null : 'deploy')), []);
  const onBundle = useCallback(() => setPanel((p) => (p === 'bundle' ? null : 'bundle')), []);
  const onAudit = useCallback(() => setPanel((p) => (p === 'audit' ? null : 'audit')), []);

  return (
    <Ctx.Provider value={ctx}>
      <div className="app">
        <Header status={feed.status} reason={feed.reason} onDeploy={onDeploy} onBundle={onBundle} onAudit={onAudit} />
        <div className="main">
          {panel === 'deploy' && state && canWrite && (
            <DeployPanel model={state} onClose={() => setPanel(null)} onDeployed={(app) => setSelection({ kind: 'app', name: app })} />
          )}
          <ReactFlowProvider>
            {state ? <Canvas model={canvasModel!} summaries={summaries} selection={selection} onSelect={setSelection} /> : <div className="loading">Connecting to model {model}…</div>}
          </ReactFlowProvider>
          {selection && state && <Inspector model={state} summaries={summaries} selection={selection} onSelect={setSelection} />}
        </div>
        {panel === 'bundle' && <BundlePanel onClose={() => setPanel(null)} />}
        {panel === 'audit' && superuser && <AuditPanel onClose={() => setPanel(null)} />}
        <div className="toasts" role="status">
          {toasts.map((t) => (
            <div key={t.id} className={`toast ${t.kind}`} data-testid={`toast-${t.kind}`}>
              <div>{t.message}</div>
              {t.hint && <div className="hint">hint: {t.hint}</div>}
            </div>
          ))}
        </div>
      </div>
    </Ctx.Provider>
  );
}

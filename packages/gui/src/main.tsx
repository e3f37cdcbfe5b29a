import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { Api, ApiError, canWrite, session } from './api/client.ts';
import { ModelFeed } from './store/feed.ts';
import type { WhoAmI } from '@sigil/api';
import { FAILOVER_AFTER, ReplicaList } from './store/failover.ts';
import { App } from './App.tsx';
import { Login, NoAccess } from './pages/Login.tsx';

// Marks for the render benchmark (bench/gui-render.ts): script start, snapshot, first canvas paint.
performance.mark('sigil:script');

/** The model's delta stream over the page's WebSocket (the session cookie authenticates it). */
function openFeed(model: string): ModelFeed {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return new ModelFeed(`${scheme}://${location.host}/api/gui/watch?model=${encodeURIComponent(model)}`, {
    open: (url, protocols, on) => {
      const ws = new WebSocket(url, protocols);
      ws.onopen = () => on.open();
      ws.onmessage = (e) => on.message(String(e.data));
      ws.onclose = (e) => on.close(e.code, e.reason);
      return ws;
    },
    frame: (fn) => requestAnimationFrame(fn),
    later: (fn, ms) => setTimeout(fn, ms),
    failing: (inARow) => {
      if (inARow >= FAILOVER_AFTER) moveToReplica();
    },
  });
}

/** The controller's processes as the page last listed them: where it goes if this one stops answering. */
const replicas = new ReplicaList();
let moving = false;
let relist: ReturnType<typeof setInterval> | undefined;
/** How often the page lists the replicas again while live (one may have joined or left). */
const RELIST_MS = 30_000;

/** Lists the replicas; a listing that fails (the replica is busy or going) is tried again shortly while the stream is live. */
function listReplicas(api: Api, live: () => boolean, attempt = 0): void {
  api.request('GET /api/controller').then(
    (c) => replicas.set(c.controllers, c.replica),
    () => {
      if (live()) setTimeout(() => live() && listReplicas(api, live, attempt + 1), Math.min(5000, 250 * 2 ** attempt));
    },
  );
}

/**
 * The controller process that served this page stopped answering: the same page on the next
 * replica listed alive. On the same host the session cookie goes along (cookies are per
 * host, not port); on another the user logs in there. Nothing is asked of that replica
 * first: the page's content security policy and the API's origin check rightly forbid it.
 */
function moveToReplica(): void {
  const next = replicas.next(location.origin);
  if (next === undefined || moving) return;
  moving = true;
  location.assign(`${next}${location.pathname}${location.search}${location.hash}`);
}

const root = createRoot(document.getElementById('root')!);
const params = new URLSearchParams(location.search);
const model = params.get('model') ?? 'default';
let feed: ModelFeed | undefined;

function showLogin(message?: string, hint?: string, kind: 'error' | 'info' = 'error'): void {
  feed?.stop();
  feed = undefined;
  root.render(<Login notice={message === undefined ? undefined : { message, hint, kind }} onLoggedIn={() => void boot()} />);
}

/** A user who may not see this model: say so, and offer the models it may see. */
function showNoAccess(who: WhoAmI): void {
  feed?.stop();
  feed = undefined;
  root.render(<NoAccess user={who.user} model={model} models={Object.keys(who.models)} />);
}

const ENDED = ['Your session has ended.', 'log in again, or run `sigil gui` for a new link'] as const;

function showApp(who: WhoAmI, started: ModelFeed): void {
  feed = started;
  const api = new Api();
  api.onSessionEnded = () => showLogin(...ENDED);
  // A stream that drops may mean the session ended (expired, revoked, user disabled): ask.
  let wasLive = false;
  const live = () => feed === started && started.status === 'live';
  listReplicas(api, () => feed === started);
  clearInterval(relist);
  relist = setInterval(() => live() && listReplicas(api, live), RELIST_MS);
  started.subscribe(() => {
    if (started.status === 'live') {
      // Back after a drop: the replicas may have changed meanwhile.
      if (!wasLive) listReplicas(api, live);
      wasLive = true;
    } else if (started.status === 'reconnecting' && wasLive) {
      wasLive = false;
      session.whoami().then((w) => w === undefined && feed === started && showLogin(...ENDED), () => {});
    }
  });
  const logout = () => void session.logout().then(() => showLogin('Logged out.', undefined, 'info'), (e: unknown) => showLogin(e instanceof Error ? e.message : String(e)));
  root.render(<App api={api} model={model} feed={feed} replicas={replicas} user={who.user} canWrite={canWrite(who, model)} superuser={who.superuser} logout={logout} />);
}

/**
 * With a session cookie, the model; without one, the login form. The feed connects while
 * the page asks who is logged in, so the snapshot is on its way before React starts.
 */
async function boot(): Promise<void> {
  const started = openFeed(model);
  started.start();
  // The benchmarks read the feed's counters.
  (window as unknown as { __sigil: unknown }).__sigil = { feed: started };
  let who: WhoAmI | undefined;
  try {
    who = await session.whoami();
  } finally {
    if (who === undefined) started.stop();
  }
  if (who === undefined) return showLogin();
  if (who.superuser || who.models[model] !== undefined) return showApp(who, started);
  started.stop();
  // No model named: the first one the user may see; a model named but not granted: say so.
  const first = Object.keys(who.models)[0];
  if (!params.has('model') && first !== undefined) location.replace(`/gui/?model=${encodeURIComponent(first)}`);
  else showNoAccess(who);
}

/**
 * `sigil gui` links to /gui/login?code=…: the code leaves the address bar (and the history)
 * at once, and the page posts it, so a link previewer that fetches the URL cannot spend it.
 */
async function start(): Promise<void> {
  const code = params.get('code');
  if (code !== null) {
    params.delete('code');
    history.replaceState(null, '', `/gui/?${params.toString()}`);
    try {
      await session.withCode(code);
    } catch (e) {
      return showLogin(e instanceof Error ? e.message : String(e), e instanceof ApiError ? e.hint : undefined);
    }
  }
  await boot();
}

start().catch((e: unknown) => showLogin(e instanceof Error ? e.message : String(e), e instanceof ApiError ? e.hint : undefined));

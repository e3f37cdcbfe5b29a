import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { Api } from './api/client.ts';
import { ModelFeed } from './store/feed.ts';
import { App } from './App.tsx';
import { Login } from './pages/Login.tsx';

/**
 * The login link carries the token in the URL fragment, which browsers never send to the
 * server; it moves to session storage and out of the address bar at once.
 */
function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (token) {
    sessionStorage.setItem('sigil-token', token);
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem('sigil-token') ?? undefined;
}

// Marks for the render benchmark (bench/gui-render.ts): script start, snapshot, first canvas paint.
performance.mark('sigil:script');
/** The model's delta stream over the page's WebSocket. */
function openFeed(model: string, token: string): ModelFeed {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return new ModelFeed(`${scheme}://${location.host}/api/gui/watch?model=${encodeURIComponent(model)}`, token, {
    open: (url, protocols, on) => {
      const ws = new WebSocket(url, protocols);
      ws.onopen = () => on.open();
      ws.onmessage = (e) => on.message(String(e.data));
      ws.onclose = (e) => on.close(e.code, e.reason);
      return ws;
    },
    frame: (fn) => requestAnimationFrame(fn),
    later: (fn, ms) => setTimeout(fn, ms),
  });
}

const root = createRoot(document.getElementById('root')!);
const token = takeToken();
const model = new URLSearchParams(location.search).get('model') ?? 'default';
if (token) {
  // Connect before the first render, so the snapshot is on its way while React starts.
  const feed = openFeed(model, token);
  feed.start();
  // The benchmarks read the feed's counters.
  (window as unknown as { __sigil: unknown }).__sigil = { feed };
  root.render(<App api={new Api(token)} model={model} feed={feed} />);
} else {
  root.render(<Login />);
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { GuiDelta, GuiMessage } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import type { Change } from '../store/store.ts';
import { GuiView } from '../domain/gui-view.ts';
import { CharmLibrary } from '../domain/gui-library.ts';
import { GuiBundles } from '../domain/gui-bundle.ts';
import { routes } from './contract.ts';
import { registerGuiSessionRoutes } from './gui-session.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

// The page loads nothing from elsewhere; inline styles are how the canvas positions nodes.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'";

/** The installation's root (the directory holding dist/gui), found from where this code runs. */
export function findInstallRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'dist', 'gui', 'index.html')) || existsSync(join(dir, 'packages', 'gui'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Browsers cannot set headers on a WebSocket, so the GUI offers its token as a subprotocol
 * (`bearer.<token>`) next to `sigil`, which is the one the server selects and echoes.
 */
export function protocolAuthorization(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((p) => p.trim());
  const token = offered.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length);
  return token ? `Bearer ${token}` : undefined;
}

export interface GuiStreams {
  watch(ws: WebSocket, url: URL): void;
}

/** The web GUI: its static files at /gui, its login, its charm search, deploy and bundle routes, and its delta stream. */
export function registerGuiRoutes(app: FastifyInstance, svc: Services, root = findInstallRoot()): GuiStreams {
  const view = new GuiView(svc.store, { connected: (m, id) => svc.presence.connected(m, id), published: (m, u) => svc.publishedPorts(m, u) });
  const library = new CharmLibrary(svc.store, root === undefined ? undefined : join(root, 'charms'));
  const bundles = new GuiBundles(svc, library);
  const guiDir = root === undefined ? undefined : join(root, 'dist', 'gui');
  const model = (name: string) => svc.models.mustGet(name).name;
  const on = routes(app);

  on('GET /gui', async (req, reply) => reply.redirect(`/gui/${req.url.slice('/gui'.length)}`));
  on('GET /gui/*', async (req, reply) => {
    if (guiDir === undefined || !existsSync(join(guiDir, 'index.html'))) {
      throw new SigilError('not-found', 'the web GUI is not built', 'run `npm run build` in the Sigil checkout, then reload');
    }
    // The wildcard is no `:name` segment of the contract's path: fastify names it `*`.
    const path = (req.params as { '*'?: string })['*'] || 'index.html';
    const wanted = resolve(guiDir, path);
    const found = wanted.startsWith(guiDir + sep) && existsSync(wanted) && statSync(wanted).isFile();
    // A missing asset is an error; any other path is the single-page app.
    if (!found && path.startsWith('assets/')) throw new SigilError('not-found', `no GUI file ${path}`, 'reload the page: the GUI may have been rebuilt');
    const file = found ? wanted : join(guiDir, 'index.html');
    const immutable = file.includes(`${sep}assets${sep}`);
    return reply
      .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(readFileSync(file));
  });

  registerGuiSessionRoutes(app, svc);
  on('GET /api/gui/charms', async (req) => library.search(req.query.q ?? ''));
  on('GET /api/gui/charm', async (req) => library.page(req.query.id ?? ''));
  // A library charm's files, for `sigil deploy bundle.yaml` naming it (`charm: postgresql`): the CLI plans with them and uploads them.
  on('GET /api/gui/charm/archive', async (req) => library.archiveOf(req.query.id ?? ''));
  on('POST /api/gui/models/:model/deploy', async (req) => {
    const m = model(req.params.model);
    const b = req.body;
    svc.store.tx(() => {
      const charm = library.addTo(m, b.charm);
      svc.applications.deploy({ model: m, app: b.app, charmUrl: charm.url, numUnits: b.numUnits, config: b.config, constraints: '', to: [] });
      if (Object.keys(b.annotations).length > 0) svc.applications.setAnnotations(m, b.app, b.annotations);
    });
    svc.wake();
    return { app: b.app };
  });
  on('GET /api/gui/models/:model/bundle', async (req, reply) => reply.header('content-type', 'text/yaml; charset=utf-8').send(bundles.export(model(req.params.model))));
  on('POST /api/gui/models/:model/bundle/plan', async (req) => bundles.plan(model(req.params.model), req.body.yaml));
  on('POST /api/gui/models/:model/bundle/apply', async (req) => bundles.apply(model(req.params.model), req.body.yaml));

  return { watch: (ws, url) => watch(ws, url, svc, view) };
}

/**
 * The GUI's delta stream (decision 0006): a snapshot (or the deltas missed since `since`),
 * then the entities each commit changed. Commits arriving together are coalesced into one
 * message per turn of the event loop, each entity sent once.
 */
function watch(ws: WebSocket, url: URL, svc: Services, view: GuiView): void {
  const model = url.searchParams.get('model') ?? '';
  const since = Number(url.searchParams.get('since') ?? '-1');
  const send = (m: GuiMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
  const known = new Map<string, boolean>();
  let pending: Change[] = [];
  let rev = 0;
  const flush = () => {
    const changes = pending;
    pending = [];
    const deltas: GuiDelta[] = [...view.deltas(model, changes), ...view.presenceDeltas(model, known)];
    if (deltas.length > 0) send({ type: 'deltas', rev, deltas });
  };
  try {
    const missed = since >= 0 && since >= svc.store.oldestRevision() - 1 ? svc.store.changesSince(since, 5_000) : undefined;
    if (missed !== undefined && missed.length < 5_000) {
      rev = svc.store.revision();
      pending = missed;
      flush();
    } else {
      const snap = view.snapshot(model);
      rev = snap.rev;
      for (const m of Object.values(snap.model.machines)) known.set(m.id, m.up);
      send({ type: 'snapshot', rev: snap.rev, model: snap.model });
    }
  } catch (e) {
    ws.close(4004, e instanceof SigilError ? e.message.slice(0, 120) : 'cannot watch this model');
    return;
  }
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (ws.readyState === ws.OPEN) flush();
    });
  };
  const unsubscribe = svc.store.subscribe((r, changes) => {
    const mine = changes.filter((c) => c.model === model);
    if (mine.length === 0) return;
    rev = r;
    pending.push(...mine);
    schedule();
  });
  const unpresence = svc.presence.onChange(schedule);
  ws.on('close', () => {
    unsubscribe();
    unpresence();
  });
  ws.on('error', () => ws.terminate());
}

// The GUI's routes and delta stream against a real store and a real server on an ephemeral
// port (no agents: unit state is written as the agent facade would).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GuiCharmPage, GuiCharmSummary, GuiDelta, GuiMessage } from '@sigil/api';
import { openTestDb } from '../store/test-store.ts';
import { Store } from '../store/store.ts';
import { Services } from '../services.ts';
import { silentLogger } from '../logger.ts';
import { buildServer } from './server.ts';

const TOKEN = 'gui-test-token';
const files = (meta: string, extra: Record<string, string> = {}) => ({
  files: Object.entries({ 'metadata.yaml': meta, ...extra }).map(([path, text]) => ({ path, mode: 0o644, data: Buffer.from(text).toString('base64') })),
});
const SOURCE = files('name: src\nsummary: Publishes a token\ndescription: d\nprovides:\n  out: {interface: token}\n', { 'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>', 'README.md': '# src\n' });
const SINK = files('name: snk\nsummary: Reads a token\ndescription: d\nrequires:\n  in: {interface: token}\n', { 'config.yaml': 'options:\n  n: {type: int, default: 1, description: a number}\n' });

let dir: string;
let svc: Services;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigil-gui-routes-'));
  const store = new Store(openTestDb(dir));
  svc = new Services(store, silentLogger, 'test', createHash('sha256').update(TOKEN).digest('hex'), join(dir, 'controller.log'), () => {});
  svc.models.add('m');
  const app = buildServer(svc);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  close = async () => {
    await app.close();
    store.db.close();
  };
});

afterAll(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(url + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

function deltaKey(d: GuiDelta): string {
  if (d.op === 'remove' || d.kind === 'operation') return d.key;
  switch (d.kind) {
    case 'relation': return String(d.value.id);
    case 'charm': return d.value.url;
    case 'machine': return d.value.id;
    default: return d.value.name;
  }
}

/** Opens the GUI stream and collects messages; `next()` waits for the next one. */
function watch(query: string, protocols = ['sigil', `bearer.${TOKEN}`]) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/gui/watch?${query}`, protocols);
  const got: GuiMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    got.push(JSON.parse(String(d)) as GuiMessage);
    waiters.shift()?.();
  });
  const next = async (): Promise<GuiMessage> => {
    if (got.length === 0) await new Promise<void>((r) => waiters.push(r));
    return got.shift()!;
  };
  return { ws, next };
}

describe('GUI routes', () => {
  it('serves the page without credentials but nothing else', async () => {
    const page = await fetch(`${url}/gui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
    // Any path under /gui/ that is not a file is the app; nothing outside dist/gui is reachable.
    expect(await (await fetch(`${url}/gui/..%2F..%2Fpackage.json`)).text()).toContain('<div id="root">');
    expect((await fetch(`${url}/api/gui/charms`)).status).toBe(401);
    expect((await fetch(`${url}/api/models`)).status).toBe(401);
  });

  it('finds charms on the controller by name, summary and interface', async () => {
    svc.charms.add('m', SOURCE);
    svc.charms.add('m', SINK);
    const search = async (q: string) => ((await (await api(`/api/gui/charms?q=${q}`)).json()) as GuiCharmSummary[]).map((c) => c.name).filter((n) => n === 'src' || n === 'snk').sort();
    expect(await search('token')).toEqual(['snk', 'src']);
    expect(await search('publishes')).toEqual(['src']);
    expect(await search('snk')).toEqual(['snk']);
  });

  it("reads every charm's page (the library's and the controller's), and an uploaded charm's files", async () => {
    const all = (await (await api('/api/gui/charms')).json()) as GuiCharmSummary[];
    for (const c of all) expect((await api(`/api/gui/charm?id=${encodeURIComponent(c.id)}`)).status).toBe(200);
    const id = all.find((c) => c.name === 'snk' && c.source === 'controller')!.id;
    const page = (await (await api(`/api/gui/charm?id=${encodeURIComponent(id)}`)).json()) as GuiCharmPage;
    expect(page).toMatchObject({ name: 'snk', source: 'controller', subordinate: false, config: { n: { type: 'int', default: 1, description: 'a number' } } });
    expect(page.endpoints).toContainEqual({ name: 'in', role: 'requirer', interface: 'token', optional: false, scope: 'global' });
    const archive = (await (await api(`/api/gui/charm/archive?id=${encodeURIComponent(id)}`)).json()) as { files: { path: string }[] };
    expect(archive.files.map((f) => f.path).sort()).toEqual(['config.yaml', 'metadata.yaml']);
  });

  it('deploys a found charm with typed config and a position, refusing a bad value by name', async () => {
    const all = (await (await api('/api/gui/charms?q=snk')).json()) as GuiCharmSummary[];
    const id = all.find((c) => c.name === 'snk')!.id;
    const bad = await api('/api/gui/models/m/deploy', { method: 'POST', body: JSON.stringify({ charm: id, app: 'snk', numUnits: 1, config: { n: 'x' }, annotations: {} }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/option "n"/);
    const ok = await api('/api/gui/models/m/deploy', { method: 'POST', body: JSON.stringify({ charm: id, app: 'snk', numUnits: 2, config: { n: 5 }, annotations: { 'gui-x': '10', 'gui-y': '20' } }) });
    expect(ok.status).toBe(200);
    expect(svc.reads.app('m', 'snk')).toMatchObject({ config: { n: 5 }, annotations: { 'gui-x': '10', 'gui-y': '20' } });
    expect(svc.reads.units('m', 'snk')).toHaveLength(2);
  });

  it('streams a snapshot, then each changed entity once per commit batch, over a subprotocol token', async () => {
    const src = svc.reads.charms('m').find((c) => c.name === 'src')!;
    svc.applications.deploy({ model: 'm', app: 'src', charmUrl: src.url, numUnits: 1, config: {}, constraints: '', to: [] });
    const w = watch('model=m');
    const first = await w.next();
    if (first.type !== 'snapshot') throw new Error('expected a snapshot first');
    expect(Object.keys(first.model.apps).sort()).toEqual(['snk', 'src']);
    expect(Object.keys(first.model.units).sort()).toEqual(['snk/0', 'snk/1', 'src/0']);
    expect(first.model.charms[src.url]?.icon).toContain('<svg');

    svc.store.tx(() => {
      svc.store.db.prepare('UPDATE units SET agent = ? WHERE model = ? AND name = ?').run(JSON.stringify({ current: 'error', message: 'hook failed: "install"', since: 0 }), 'm', 'snk/0');
      svc.store.changed('m', 'unit', 'snk/0');
      svc.store.changed('m', 'unit', 'snk/0');
    });
    svc.relations.integrate('m', 'src', 'snk');
    const d = await w.next();
    if (d.type !== 'deltas') throw new Error('expected deltas');
    const kinds = d.deltas.map((x) => `${x.kind}:${deltaKey(x)}`);
    // Two commits in one turn: one message, snk/0 once, the relation and both applications it touched.
    expect(kinds.filter((k) => k === 'unit:snk/0')).toHaveLength(1);
    expect(kinds).toEqual(expect.arrayContaining(['app:src', 'app:snk', expect.stringMatching(/^relation:\d+$/)]));
    const unit = d.deltas.find((x): x is Extract<GuiDelta, { kind: 'unit'; op: 'put' }> => x.kind === 'unit' && x.op === 'put');
    expect(unit?.value.agent).toEqual({ current: 'error', message: 'hook failed: "install"' });

    // A client that resumes from a revision gets what it missed, not a snapshot.
    svc.units.remove('m', ['snk/1']);
    const resumed = watch(`model=m&since=${d.rev}`);
    const missed = await resumed.next();
    expect(missed.type).toBe('deltas');
    w.ws.close();
    resumed.ws.close();
  });

  it('refuses the stream without a valid token', async () => {
    const w = watch('model=m', ['sigil', 'bearer.wrong']);
    const err = await new Promise<string>((resolve) => w.ws.on('error', (e) => resolve(e.message)));
    expect(err).toMatch(/401/);
  });

  it('plans a pasted bundle, applies it in one go, and exports it as export-bundle does', async () => {
    svc.models.add('b');
    const yaml = 'applications:\n  src:\n    charm: ./src\n    num_units: 1\n    annotations: {gui-x: "5", gui-y: "6"}\n  snk:\n    charm: ./snk\n    num_units: 1\n    options: {n: 3}\nrelations:\n  - [src, snk]\n';
    const plan = (await (await api('/api/gui/models/b/bundle/plan', { method: 'POST', body: JSON.stringify({ yaml }) })).json()) as { changes: string[] };
    expect(plan.changes.some((c) => c.startsWith('deploy application "snk"') && c.includes('n=3'))).toBe(true);
    expect(plan.changes).toContain('add relation src:out - snk:in');
    expect(svc.reads.apps('b')).toEqual([]);
    const applied = await api('/api/gui/models/b/bundle/apply', { method: 'POST', body: JSON.stringify({ yaml }) });
    expect(applied.status).toBe(200);
    expect(svc.reads.apps('b').map((a) => a.name).sort()).toEqual(['snk', 'src']);
    const exported = await (await api('/api/gui/models/b/bundle')).text();
    expect(exported).toContain('gui-x');
    const again = (await (await api('/api/gui/models/b/bundle/plan', { method: 'POST', body: JSON.stringify({ yaml: exported }) })).json()) as { changes: string[] };
    expect(again.changes).toEqual([]);
  });

  it('refuses a bundle with a bad option value, naming it, and changes nothing', async () => {
    svc.models.add('c');
    const yaml = 'applications:\n  src:\n    charm: ./src\n    num_units: 1\n  snk:\n    charm: ./snk\n    options: {n: "many"}\n';
    const r = await api('/api/gui/models/c/bundle/apply', { method: 'POST', body: JSON.stringify({ yaml }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/options\.n|option "n"/);
    expect(svc.reads.apps('c')).toEqual([]);
  });

  it('deploys the revision a pasted bundle names, and refuses one there is not, listing those there are', async () => {
    svc.models.add('r');
    const older = svc.charms.add('r', files('name: rev\nsummary: s\ndescription: d\n', { 'config.yaml': 'options:\n  n: {type: int, default: 1, description: a number}\n' }));
    const newer = svc.charms.add('r', files('name: rev\nsummary: s\ndescription: d\n', { 'config.yaml': 'options:\n  n: {type: int, default: 2, description: a number}\n' }));
    expect(newer.revision).toBeGreaterThan(older.revision);
    const applied = await api('/api/gui/models/r/bundle/apply', { method: 'POST', body: JSON.stringify({ yaml: `applications:\n  old:\n    charm: rev\n    revision: ${older.revision}\n  new:\n    charm: rev\n` }) });
    expect(applied.status).toBe(200);
    const apps = Object.fromEntries(svc.reads.apps('r').map((a) => [a.name, a.charmUrl]));
    expect(apps).toEqual({ old: older.url, new: newer.url });
    const missing = await api('/api/gui/models/r/bundle/plan', { method: 'POST', body: JSON.stringify({ yaml: 'applications:\n  x:\n    charm: rev\n    revision: 9\n' }) });
    expect(missing.status).toBe(404);
    const err = ((await missing.json()) as { error: { message: string; hint: string } }).error;
    expect(err.message).toBe('charm "rev" has no revision 9 on the controller');
    expect(err.hint).toBe(`revisions there are: ${older.revision}, ${newer.revision}`);
    expect(svc.reads.apps('r').map((a) => a.name).sort()).toEqual(['new', 'old']);
  });
});

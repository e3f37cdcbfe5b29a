// The web GUI's first render of a 100-application, 1,000-unit model in headless chromium:
// from navigation to every node drawn and measured, through the real controller (in this
// process, on an ephemeral port) and the real page. Target: under 1 s.
// Agents are simulated: the model is written through the controller's own domain code and
// machine presence is registered directly.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { openDb } from '../packages/controller/src/store/db.ts';
import { Store } from '../packages/controller/src/store/store.ts';
import { Services } from '../packages/controller/src/services.ts';
import { silentLogger } from '../packages/controller/src/logger.ts';
import { buildServer } from '../packages/controller/src/apiserver/server.ts';
import { ms, stats } from './lib.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const MODEL = 'bench';

export interface SimController {
  svc: Services;
  url: string;
  /** A fresh one-time login link for the model (each works once, as `sigil gui`'s). */
  login(): string;
  /** The model's page without a login (the session cookie from a login link opens it). */
  page: string;
  units: string[];
  close(): Promise<void>;
}

const METADATA = `name: app
summary: A simulated application
description: d
provides:
  api: {interface: api}
requires:
  upstream: {interface: api}
`;

/** A controller serving a model of `apps` applications with `perApp` active units each, every second app related to the previous. */
export async function simulatedController(apps: number, perApp: number): Promise<SimController> {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-gui-bench-'));
  const store = new Store(openDb(join(dir, 'state.db')));
  const token = randomBytes(24).toString('hex');
  const svc = new Services(store, silentLogger, 'bench', createHash('sha256').update(token).digest('hex'), join(dir, 'controller.log'), () => {});
  svc.models.add(MODEL);
  const charm = svc.charms.add(MODEL, { files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(METADATA).toString('base64') }] });
  const machines = Array.from({ length: 20 }, (_, i) => {
    const id = svc.machines.add(MODEL, { constraints: '', autoRemove: false }).id;
    svc.machines.provisioned(MODEL, id, { instanceId: `sim-${id}`, address: `127.250.0.${i + 2}`, hostname: 'sim' });
    svc.presence.add(MODEL, id);
    return id;
  });
  store.tx(() => {
    for (let a = 0; a < apps; a++) {
      svc.applications.deploy({ model: MODEL, app: `app${a}`, charmUrl: charm.url, numUnits: 0, config: {}, constraints: '', to: [] });
      svc.units.add(MODEL, `app${a}`, perApp, machines);
      if (a % 2 === 1) svc.relations.integrate(MODEL, `app${a}:upstream`, `app${a - 1}:api`);
    }
    const active = JSON.stringify({ current: 'active', message: 'ready', since: Date.now() });
    const idle = JSON.stringify({ current: 'idle', message: '', since: Date.now() });
    store.db.prepare('UPDATE units SET workload = ?, agent = ? WHERE model = ?').run(active, idle, MODEL);
  });
  const app = buildServer(svc);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const units = svc.reads.units(MODEL).map((u) => u.name);
  return {
    svc,
    url,
    login: () => `${url}/gui/login?model=${MODEL}&code=${svc.guiLogins.issue('admin').code}`,
    page: `${url}/gui/?model=${MODEL}`,
    units,
    async close() {
      await app.close();
      store.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launch(): Promise<Browser> {
  // Loaded at run time: bench/run.mjs bundles each benchmark, and playwright-core cannot be bundled.
  const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** The page's globals the benchmarks touch (this file is type-checked without the DOM library). */
export interface PageGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<unknown> };
  getComputedStyle(e: unknown): { visibility: string };
  requestAnimationFrame(fn: (t: number) => void): number;
  __sigil: { feed: { applied: number; state: { model?: { units: Record<string, { workload: { message: string } }> } }; subscribe(fn: () => void): () => void } };
  __bench: { start: number; frames: number[]; latency: number[]; stop(): void };
}

/** Loads the GUI and returns ms from navigation start until every node is drawn and visible. */
export async function firstRender(page: Page, login: string, nodes: number): Promise<number> {
  await page.goto(login, { waitUntil: 'commit' });
  await page.waitForFunction((n) => {
    const w = globalThis as unknown as PageGlobals;
    const drawn = w.document.querySelectorAll('.react-flow__node');
    return drawn.length >= n && w.getComputedStyle(drawn[drawn.length - 1]).visibility === 'visible';
  }, nodes, { timeout: 30_000, polling: 'raf' });
  return page.evaluate(() => performance.now());
}

if (process.argv[1]?.includes('gui-render')) {
  const sim = await simulatedController(100, 10);
  const browser = await launch();
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      // A fresh context has an empty cache (the first load of the day); the same context again is a reload.
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      const page = await context.newPage();
      cold.push(await firstRender(page, sim.login(), 100));
      warm.push(await firstRender(page, sim.page, 100));
      await context.close();
    }
    const snapshot = await (await fetch(`${sim.url}/api/health`)).json();
    const c = stats(cold);
    const w = stats(warm);
    console.log(`GUI first render, ${sim.units.length} units / 100 apps / 50 relations (revision ${(snapshot as { revision: number }).revision}):`);
    console.log(`  empty cache: median ${ms(c.median)}, max ${ms(c.max)} (target < 1000 ms)`);
    console.log(`  reload:      median ${ms(w.median)}, max ${ms(w.max)}`);
  } finally {
    await browser.close();
    await sim.close();
  }
}

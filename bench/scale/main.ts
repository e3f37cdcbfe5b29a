// The controller at scale (issue 14): N simulated machine agents, one unit each, in this
// process (bench/scale/sim-agent.ts: the real agent's client, view merge, feed filter and
// resolver, over real HTTPS and WebSocket connections) against one real controller process
// (local-process, SQLite). The model: `big` (1,000 units, related to `db`), `db` (1 unit),
// and the rest in applications of at most 1,000 units. Prints, for each N in SCALE_N
// (default "1001,3000"; "1001,10000" goes as far as issue 14 asks, given time):
// - time until every unit has installed, started and settled;
// - controller RSS (and its peak) with every agent connected;
// - `sigil status --format json` p50/p99 (the CLI end to end) and the status API alone;
// - a config change to `big`: time until every one of its agents has the new value in its
//   view, and until every one has committed config-changed with it;
// - add-unit of one unit to `big` placed on an existing machine: how many agents were woken
//   (view reads, across all agents) and the controller CPU it cost, against the same for a
//   no-op (the work that is proportional to the application shows as the difference);
// - churn: 20 mutations/s (config, annotations, add-unit, remove-unit in turn) for CHURN_S
//   seconds (default 15), with p50/p99 of the mutating calls, made and timed in a process of
//   their own (as an operator's CLI would be).
// PROFILE=1 writes a CPU profile of the controller (SIGIL_CPU_PROFILE_DIR) and prints its
// top functions by self time.
// SCALE_STORES (default "sqlite"): which stores, in one run: `sqlite`, `postgresql` (one
// controller on a throwaway PostgreSQL cluster on loopback, fsync on) and `postgresql-2` (two
// replicas on it, `enable-ha -n 2`, the agents split between them as a load balancer would;
// then r0 is killed -9 and the time until every agent is connected to r1 is measured).
import { execFileSync, fork } from 'node:child_process';
import https from 'node:https';
import { setMaxListeners } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { openDb, type Db } from '../../packages/controller/src/store/db.ts';
import { openPgDb } from '../../packages/controller/src/store/pg/pg-db.ts';
import { startCluster, type Cluster } from '../../packages/controller/src/store/pg/cluster.ts';
import { writeFileSync } from 'node:fs';
import { Store } from '../../packages/controller/src/store/store.ts';
import { Charms } from '../../packages/controller/src/domain/charms.ts';
import { Applications } from '../../packages/controller/src/domain/applications.ts';
import { Machines } from '../../packages/controller/src/domain/machines.ts';
import { Units } from '../../packages/controller/src/domain/units.ts';
import { Relations } from '../../packages/controller/src/domain/relations.ts';
import { Models } from '../../packages/controller/src/domain/models.ts';
import { SIGIL, ms, stats, timeCmd, withController } from '../lib.ts';
import { SimMachine, type SimCounters, type SimUnit } from './sim-agent.ts';
import { topSelfTime } from './profile.ts';

// SCALE_BIG: the size of `big` (default 1,000, as issue 14 asks; smaller for a run that
// completes on this machine, e.g. the store comparison: SCALE_BIG=200 SCALE_N=301).
const BIG = Number(process.env.SCALE_BIG ?? 1000);
const SIZES = (process.env.SCALE_N ?? '1001,3000').split(',').map(Number).filter((n) => n >= BIG + 1);
const CHURN_S = Number(process.env.CHURN_S ?? 15);
const PROFILE = process.env.PROFILE === '1';
// One socket pool for every simulated agent (they share one process, unlike real agents):
// bounded so that HTTP sockets and change-feed sockets together stay under the fd limit.
https.globalAgent.maxSockets = 2000;
setMaxListeners(0);

// The churn's operator runs in a process of its own (this script, forked), as a person's CLI
// would: in this one, 1,000 simulated agents running relation hooks at once would hold the
// event loop and add their own delay to every call it times.
// The job (with the admin credential) comes over the IPC channel, not the environment.
if (process.env.SCALE_CHURN === '1') {
  const job = await new Promise<ChurnJob>((resolve) => process.once('message', (m) => resolve(m as ChurnJob)));
  process.send!(await churn(job));
  process.exit(0);
}

const STORES = (process.env.SCALE_STORES ?? 'sqlite').split(',') as StoreKind[];
type StoreKind = 'sqlite' | 'postgresql' | 'postgresql-2';
for (const k of STORES) if (!['sqlite', 'postgresql', 'postgresql-2'].includes(k)) throw new Error(`SCALE_STORES: unknown store ${k}`);
const cluster: Cluster | undefined = STORES.some((k) => k !== 'sqlite') ? await startCluster({ durable: true }) : undefined;
const pwFile = join(tmpdir(), `sigil-scale-pw-${process.pid}`);
if (cluster) writeFileSync(pwFile, cluster.password, { mode: 0o600 });
let databases = 0;
try {
  for (const n of SIZES) for (const k of STORES) await runOne(n, k);
} finally {
  await cluster?.destroy();
  rmSync(pwFile, { force: true });
}
// The simulated agents' sockets and timers would keep the process (and `npm run bench`) waiting.
process.exit(0);

/** A new database in the bench cluster, for one controller. */
function newDatabase(): string {
  const name = `scale_${++databases}`;
  execFileSync('psql', ['-h', '127.0.0.1', '-p', String(cluster!.port), '-U', 'sigil', '-d', 'postgres', '-c', `CREATE DATABASE ${name}`], { env: { ...process.env, PGPASSWORD: cluster!.password }, stdio: 'ignore' });
  return cluster!.url(name);
}

async function runOne(n: number, kind: StoreKind): Promise<void> {
  const name = `bench-scale-${n}-${kind}`;
  const replicas = kind === 'postgresql-2' ? 2 : 1;
  console.log(`\n-- ${n} simulated agents (one unit each) on ${replicas === 2 ? 'two controller replicas' : 'one controller'}, ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} store`);
  const storeUrl = kind === 'sqlite' ? undefined : newDatabase();
  const c = withController(name, ['--provider', 'local-process', ...(storeUrl ? ['--store', storeUrl, '--store-password-file', pwFile] : [])]);
  const profDir = join(tmpdir(), `sigil-scale-prof-${process.pid}-${n}`);
  const abort = new AbortController();
  const machines: SimMachine[] = [];
  try {
    const dir = join(c.home, 'controllers', name);
    stopController(dir);
    const t0 = performance.now();
    const tokens = seed(storeUrl ? openPgDb({ url: storeUrl, password: cluster!.password }) : openDb(join(dir, 'state.db')), n);
    console.log(`seeded ${n} machines and units in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const env = { ...process.env, SIGIL_HOME: c.home, SIGIL_LOG_LEVEL: 'debug', ...(PROFILE ? { SIGIL_CPU_PROFILE_DIR: profDir } : {}) };
    if (PROFILE) mkdirSync(profDir, { recursive: true });
    execFileSync(SIGIL, ['start-controller', name], { env, stdio: 'ignore' });
    const cfg = YAML.parse(readFileSync(join(c.home, 'controllers.yaml'), 'utf8')).controllers[name];
    const admin = YAML.parse(readFileSync(join(c.home, 'accounts.yaml'), 'utf8')).controllers[name].token as string;
    const url = cfg.endpoint as string;
    const ca = cfg['ca-cert'] as string;
    const pid = Number(readFileSync(join(dir, 'controller.pid'), 'utf8').trim());
    const api = client(url, ca, admin);
    // Two replicas: the second answers on its own port; agents alternate between them.
    const urls = [url];
    if (replicas === 2) {
      execFileSync(SIGIL, ['enable-ha', name, '-n', '2'], { env, stdio: 'ignore' });
      const listed = ((await api('GET', '/api/controller')) as { controllers: { id: string; url: string }[] }).controllers;
      urls.push(listed.find((r) => r.id === 'r1')!.url);
    }
    const pids = () => [pid, ...(replicas === 2 ? [Number(readFileSync(join(dir, 'controller-1.pid'), 'utf8').trim())] : [])];
    const rssAll = (field?: string) => pids().map((p, i) => `r${i} ${rss(p, field)}`).join(', ');

    const counters: SimCounters = { viewFetches: 0, feedMessages: 0, hooks: 0, apiCalls: 0, apiErrors: 0, lastError: '' };
    const units = new Map<string, SimUnit>();
    const onUnit = (u: SimUnit) => void units.set(u.name, u);
    const until = (done: () => boolean, limitMs: number, what: string) =>
      new Promise<number>((resolve, reject) => {
        const t = performance.now();
        const check = () => {
          if (done()) {
            clearInterval(timer);
            resolve(performance.now() - t);
          } else if (performance.now() - t > limitMs) {
            clearInterval(timer);
            reject(new Error(`${what}: not done after ${limitMs / 1000} s`));
          }
        };
        const timer = setInterval(check, 50);
        check();
      });

    // Connect in waves, as machines coming up would, then wait for every unit to settle.
    for (const [id, token] of tokens) {
      // Each agent knows both replicas (as a real one does after its first connection), its own first.
      const first = machines.length % urls.length;
      const m = new SimMachine(id, [...urls.slice(first), ...urls.slice(0, first)], ca, token, counters, onUnit);
      machines.push(m);
      void m.run(abort.signal);
      if (machines.length % 250 === 0) await new Promise((r) => setTimeout(r, 100));
    }
    const allSettled = () => units.size === n && [...units.values()].every((u) => u.settled && u.handledAt > 0);
    const progress = setInterval(() => {
      const us = [...units.values()];
      console.log(`  … ${machines.filter((m) => m.connected).length} agents connected, ${us.length} units, ${us.filter((u) => u.settled).length} settled, ${counters.hooks} hooks, ${counters.apiCalls} calls, ${counters.apiErrors} failed${counters.lastError ? ` (last: ${counters.lastError})` : ''}`);
    }, 10_000);
    const settle = await until(allSettled, 30 * 60_000, 'start-up').finally(() => clearInterval(progress));
    console.log(`all ${n} units installed, started and settled: ${(settle / 1000).toFixed(1)} s after the first agent connected (${counters.hooks} hooks, ${counters.apiCalls} agent API calls, ${counters.apiErrors} failed)`);
    console.log(`controller RSS with ${n} agents connected: ${rssAll()} (peak ${rssAll('VmHWM')})`);

    // status: the CLI end to end and the API alone.
    const runs = n >= 5000 ? 8 : 15;
    const cli: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < runs; i++) {
      cli.push(await timeCmd(SIGIL, ['status', '--format', 'json'], env));
      const t = performance.now();
      await api('GET', '/api/models/default/status');
      direct.push(performance.now() - t);
    }
    const s = stats(cli);
    const d = stats(direct);
    console.log(`status --format json (CLI): p50 ${ms(s.median)}, p99 ${ms(s.p99)} (target < 250 ms); status API alone: p50 ${ms(d.median)}, p99 ${ms(d.p99)}`);

    // A config change to an application of 1,000 units.
    const bigUnits = () => [...units.values()].filter((u) => u.name.startsWith('big/'));
    const tCfg = performance.now();
    await api('POST', '/api/models/default/applications/big/config', { set: { token: 'v1' }, reset: [] });
    await until(() => bigUnits().every((u) => u.seenToken === 'v1'), 600_000, 'config change');
    const seen = Math.max(...bigUnits().map((u) => u.seenAt)) - tCfg;
    await until(() => bigUnits().every((u) => u.handledToken === 'v1'), 600_000, 'config-changed hooks');
    const handled = Math.max(...bigUnits().map((u) => u.handledAt)) - tCfg;
    console.log(`config change to big (${BIG} units): in every agent's view after ${ms(seen)} (target < 2 s); config-changed committed by all after ${ms(handled)}`);
    await until(allSettled, 600_000, 'settle after config');

    // add-unit to `big` on an existing machine: agents woken and controller CPU, against idle.
    const quiet = async () => {
      const v0 = counters.viewFetches;
      const c0 = cpuMs(pid);
      await new Promise((r) => setTimeout(r, 3000));
      return { views: counters.viewFetches - v0, cpu: cpuMs(pid) - c0 };
    };
    const idle = await quiet();
    const logPath = join(dir, 'controller.log');
    const wall0 = Date.now();
    const v0 = counters.viewFetches;
    const h0 = counters.hooks;
    const c0 = cpuMs(pid);
    const target = [...tokens.keys()].at(-1)!;
    const added = (await api('POST', '/api/models/default/applications/big/units', { n: 1, to: [target] })) as { units: string[] };
    await until(() => units.get(added.units[0]!)?.settled === true && allSettledExcept(units, n + 1), 600_000, 'add-unit');
    await new Promise((r) => setTimeout(r, 3000));
    const addViews = counters.viewFetches - v0;
    const addCpu = cpuMs(pid) - c0;
    console.log(`add-unit big (${BIG} units) --to ${target}: ${addViews} agent view reads (idle 3 s: ${idle.views}), ${counters.hooks - h0} hooks run, controller CPU ${addCpu.toFixed(0)} ms until settled + 3 s (idle 3 s: ${idle.cpu.toFixed(0)} ms); controller worker runs: ${workerRuns(logPath, wall0)}`);
    await api('POST', '/api/models/default/units/remove', { names: added.units });

    // Churn: 20 mutations a second, from another process.
    const c1 = cpuMs(pid);
    const { calls, errors } = await new Promise<ChurnResult>((resolve, reject) => {
      const child = fork(process.argv[1]!, [], { env: { ...process.env, SCALE_CHURN: '1' } });
      child.once('message', (m) => resolve(m as ChurnResult));
      child.send({ url, ca, token: admin, target, seconds: CHURN_S } satisfies ChurnJob);
      child.once('exit', (code) => reject(new Error(`churn process exited with ${code} before reporting`)));
    });
    const ch = stats(calls);
    console.log(`churn ${calls.length} mutations at 20/s over ${CHURN_S} s: p50 ${ms(ch.median)}, p99 ${ms(ch.p99)}, max ${ms(ch.max)} (target p99 < 100 ms); ${errors.length} failed${errors.length ? ` (${errors[0]})` : ''}; controller CPU ${((cpuMs(pid) - c1) / 1000).toFixed(1)} s`);
    console.log(`controller RSS at the end: ${rssAll()} (peak ${rssAll('VmHWM')}); agents: ${counters.viewFetches} view reads, ${counters.feedMessages} feed messages, ${counters.apiErrors} failed calls`);
    if (replicas === 2) await failover(dir, machines, urls);
  } finally {
    abort.abort();
    for (const m of machines) m.stop();
    try {
      c.close();
    } catch (e) {
      console.log(`destroy-controller: ${(e as Error).message}`);
    }
    if (PROFILE) {
      const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      // The controller's profile is the largest (the CLI and supervisor do little).
      const biggest = files.map((f) => join(profDir, f)).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
      if (biggest) {
        console.log(`controller CPU profile (${biggest}), top self time:`);
        for (const l of topSelfTime(biggest, 25)) console.log(`  ${l}`);
      }
      if (!process.env.KEEP) rmSync(profDir, { recursive: true, force: true });
    }
  }
}

/**
 * Kills replica 0 (supervisor and controller, -9: its host is gone) and measures the time
 * until every agent that used it has its change feed open on replica 1, then until a config
 * change made through replica 1 reaches every agent (r0's model lease has to expire first
 * when r0 held it).
 */
async function failover(dir: string, machines: SimMachine[], urls: string[]): Promise<void> {
  const onR0 = machines.filter((m) => m.api.url === urls[0]);
  const sup = Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim());
  const ctl = Number(readFileSync(join(dir, 'controller.pid'), 'utf8').trim());
  const opened = new Map<SimMachine, number>();
  for (const m of onR0) m.onConnect = () => opened.set(m, performance.now());
  const t0 = performance.now();
  process.kill(sup, 'SIGKILL');
  process.kill(ctl, 'SIGKILL');
  for (;;) {
    if (onR0.every((m) => opened.has(m) && m.api.url === urls[1])) break;
    if (performance.now() - t0 > 120_000) {
      const late = onR0.filter((m) => !opened.has(m) || m.api.url !== urls[1]);
      printFeed(late[0]!, t0);
      throw new Error(`failover: ${late.length} agents not reconnected after 120 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const times = onR0.map((m) => opened.get(m)! - t0);
  const st = stats(times);
  console.log(`failover: kill -9 of r0 → all ${onR0.length} of its agents on r1 after ${ms(st.max)} (p50 ${ms(st.median)}; target < 5 s)`);
  // The slowest agent's feed after the kill: what it tried, and what it was told.
  printFeed(onR0[times.indexOf(st.max)]!, t0);
}

/** What a simulated agent's change feed went through since `t0`. */
function printFeed(m: SimMachine, t0: number): void {
  const events = m.feedEvents.filter((e) => e.at >= t0);
  console.log(`failover: machine ${m.id}'s feed (now on ${m.api.url}) went through ${events.length} events after the kill:`);
  for (const e of events.slice(0, 12)) console.log(`  +${ms(e.at - t0)} ${e.what}`);
  if (events.length > 12) console.log(`  … ${events.length - 12} more`);
}

interface ChurnJob {
  url: string;
  ca: string;
  token: string;
  /** The machine new `db` units go to. */
  target: string;
  seconds: number;
}

interface ChurnResult {
  /** Each successful mutating call's time, ms. */
  calls: number[];
  errors: string[];
}

/** 20 mutations a second for `seconds` (config, annotations, add-unit, remove-unit in turn), each timed. */
async function churn(job: ChurnJob): Promise<ChurnResult> {
  const api = client(job.url, job.ca, job.token);
  const calls: number[] = [];
  const errors: string[] = [];
  const start = performance.now();
  let added: string | undefined;
  const inflight: Promise<void>[] = [];
  for (let i = 0; performance.now() - start < job.seconds * 1000; i++) {
    const due = start + i * 50;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const kind = i % 4;
    const op = async () => {
      const t = performance.now();
      try {
        if (kind === 0) await api('POST', '/api/models/default/applications/db/config', { set: { token: `c${i}` }, reset: [] });
        else if (kind === 1) await api('POST', '/api/models/default/applications/big/annotations', { note: `n${i}` });
        else if (kind === 2) added = ((await api('POST', '/api/models/default/applications/db/units', { n: 1, to: [job.target] })) as { units: string[] }).units[0];
        else if (added) await api('POST', '/api/models/default/units/remove', { names: [added] });
        calls.push(performance.now() - t);
      } catch (e) {
        errors.push((e as Error).message);
      }
    };
    inflight.push(op());
  }
  await Promise.all(inflight);
  return { calls, errors };
}

function allSettledExcept(units: Map<string, SimUnit>, n: number): boolean {
  return units.size >= n - 1 && [...units.values()].every((u) => u.settled);
}

/** Stops the controller `withController` started (its supervisor first), so the model can be written directly. */
function stopController(dir: string): void {
  const sup = Number(readFileSync(join(dir, 'supervisor.pid'), 'utf8').trim());
  process.kill(sup, 'SIGTERM');
  for (;;) {
    try {
      process.kill(sup, 0);
      execFileSync('sleep', ['0.05']);
    } catch {
      return;
    }
  }
}

/** Writes the model through the controller's own domain code; returns each machine's agent credential. */
function seed(db: Db, n: number): Map<string, string> {
  const store = new Store(db);
  try {
    const model = 'default';
    new Models(store).setConfig(model, { 'max-units-per-call': String(BIG) });
    const charms = new Charms(store);
    const file = (p: string, text: string) => ({ path: p, mode: 0o644, data: Buffer.from(text).toString('base64') });
    const config = 'options:\n  token: {type: string, default: ""}\n';
    const app = charms.add(model, { files: [file('metadata.yaml', 'name: app\nsummary: s\ndescription: d\nrequires:\n  db: {interface: pgsql}\n'), file('config.yaml', config)] });
    const db = charms.add(model, { files: [file('metadata.yaml', 'name: db\nsummary: s\ndescription: d\nprovides:\n  db: {interface: pgsql}\n'), file('config.yaml', config)] });
    const machines = new Machines(store);
    const tokens = new Map<string, string>();
    const ids: string[] = [];
    store.tx(() => {
      for (let i = 0; i < n; i++) {
        const id = machines.add(model, { constraints: '', autoRemove: false }).id;
        machines.provisioned(model, id, { instanceId: `sim-${id}`, address: `127.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, hostname: `sim-${id}` });
        tokens.set(id, machines.issueToken(model, id));
        ids.push(id);
      }
    });
    const apps = new Applications(store);
    const units = new Units(store);
    store.tx(() => {
      apps.deploy({ model, app: 'db', charmUrl: db.url, numUnits: 0, config: {}, constraints: '', to: [] });
      units.add(model, 'db', 1, [ids[0]!]);
      apps.deploy({ model, app: 'big', charmUrl: app.url, numUnits: 0, config: {}, constraints: '', to: [] });
      units.add(model, 'big', BIG, ids.slice(1, 1 + BIG));
      new Relations(store).integrate(model, 'big', 'db');
      for (let at = 1 + BIG, k = 0; at < n; at += BIG, k++) {
        const count = Math.min(BIG, n - at);
        apps.deploy({ model, app: `fill${k}`, charmUrl: app.url, numUnits: 0, config: {}, constraints: '', to: [] });
        units.add(model, `fill${k}`, count, ids.slice(at, at + count));
      }
    });
    return tokens;
  } finally {
    store.db.close();
  }
}

function client(url: string, ca: string, token: string) {
  const agent = new https.Agent({ keepAlive: true, ca });
  return (method: string, path: string, body?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(`${url}${path}`, { method, agent, headers: { authorization: `Bearer ${token}`, ...(data === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(text === '' ? undefined : JSON.parse(text));
        });
      });
      req.on('error', reject);
      req.end(data);
    });
}

function rss(pid: number, field = 'VmRSS'): string {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? `${(Number(m[1]) / 1024).toFixed(0)} MB` : '?';
}

// Read when first needed: the runs above start before this line of the module is reached.
let tick: number | undefined;
function cpuMs(pid: number): number {
  tick ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(f[11]) + Number(f[12])) / tick) * 1000;
}

/** The controller's worker runs logged since `since` (epoch ms), by worker: the reconciler's wake-ups. */
function workerRuns(logPath: string, since: number): string {
  const byWorker = new Map<string, number>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('"worker ran"')) continue;
    const r = JSON.parse(line) as { time: number; worker: string };
    if (r.time >= since) byWorker.set(r.worker, (byWorker.get(r.worker) ?? 0) + 1);
  }
  const total = [...byWorker.values()].reduce((a, b) => a + b, 0);
  return `${total} (${[...byWorker].map(([w, k]) => `${w} ${k}`).join(', ')})`;
}

// Config churn on a mid-size application (issue 11.9), before and after in one run: 100
// config changes to an application of the `source` test charm (its config-changed publishes
// the token and sets the workload message `token=<value>`) on the local-process provider,
// against a controller of the current build and one of the build from before the
// machine-view deltas (decision 0008), each in its own SIGIL_HOME, one after the other.
// The baseline is commit a12524b: the delta work is e65dc8c, and its parent 9abfc3f does not
// build on its own (its agent-routes.ts already imports the delta's ViewQuerySchema), so the
// baseline is the commit before that (9abfc3f only adds issue 11.4's log-line checks). It is
// built from `git archive` in a temporary directory, reused by later runs. BASE=<commit>
// compares with another commit, BASE=none runs the current build alone, ONLY=before the
// baseline alone.
//
// Each change is one API call (the same HTTP call against both builds), the next starting
// 200 ms after the previous one started (or when it returns, if later). Prints the latency
// of the config calls and of /api/health (polled every 100 ms during the churn), the time
// from the last change until every unit shows the last value (given up after CONVERGE_S
// seconds, 600 by default, naming the units still behind and how the agents' logs end), the
// CPU time the controller process used from the first change until then (a figure that,
// unlike latencies, does not depend on what else the host is running), and the before/after
// ratios. UNITS (default 20) and CHANGES (default 100) set the sizes; the size is
// UNITS=50, which takes about 20 minutes on a busy 2-core host, most of it the old build's.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { requestOf, type ApiAnswer, type ApiArgs, type ApiRoute } from '@sigil/api';
import { ROOT, SIGIL, buildAt, ms, stats, withController } from './lib.ts';

const UNITS = Number(process.env.UNITS ?? 20);
const CHANGES = Number(process.env.CHANGES ?? 100);
const BASE = process.env.BASE ?? 'a12524b';
const PACE_MS = 200;
const CONVERGE_MS = Number(process.env.CONVERGE_S ?? 600) * 1000;
const NAME = 'bench-churn';

interface Figures {
  deployS: number;
  call: ReturnType<typeof stats>;
  /** Seconds from the last change sent until every unit showed it; undefined if it did not. */
  convergeS: number | undefined;
  health: ReturnType<typeof stats>;
  cpuS: number;
  hooks: number;
}

async function churn(label: string, sigil: string, root: string): Promise<Figures> {
  console.log(`-- ${label}`);
  const c = withController(NAME, ['--provider', 'local-process'], sigil);
  try {
    const cfg = YAML.parse(readFileSync(join(c.home, 'controllers.yaml'), 'utf8')).controllers[NAME];
    const token = YAML.parse(readFileSync(join(c.home, 'accounts.yaml'), 'utf8')).controllers[NAME].token;
    // Kept-alive connections trusting only the controller's CA, as the CLI does (plain HTTP
    // for a controller from before TLS).
    const tls = String(cfg.endpoint).startsWith('https:');
    const agent = tls ? new https.Agent({ keepAlive: true, ca: cfg['ca-cert'] as string }) : new http.Agent({ keepAlive: true });
    // Each call built from the API contract, so it is typed by it (and sent the same to both builds).
    const api = <K extends ApiRoute>(key: K, ...args: ApiArgs<K>): Promise<ApiAnswer<K>> =>
      new Promise((resolve, reject) => {
        const { method, path, body } = requestOf(key, ...args);
        const data = body === undefined ? undefined : JSON.stringify(body);
        const headers = { authorization: `Bearer ${token}`, ...(data === undefined ? {} : { 'content-type': 'application/json' }) };
        const req = (tls ? https : http).request(`${cfg.endpoint}${path}`, { method, agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text) as ApiAnswer<K>);
          });
        });
        req.on('error', reject);
        req.end(data);
      });
    const messages = async () => {
      const s = await api('GET /api/models/:model/status', { params: { model: 'default' } });
      return Object.values(s.applications.source?.units ?? {}).map((u) => ({ message: u['workload-status'].message ?? '', agent: u['juju-status'].current }));
    };
    const until = async (done: (units: { message: string; agent: string }[]) => boolean, what: string, limitMs: number) => {
      const t = performance.now();
      for (;;) {
        if (done(await messages())) return performance.now() - t;
        if (performance.now() - t > limitMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };

    const t0 = performance.now();
    c.run(['deploy', join(root, 'tests', 'charms', 'source'), '-n', String(UNITS)]);
    await until((us) => us.length === UNITS && us.every((u) => u.message === 'token=' && u.agent === 'idle'), 'the deploy', 30 * 60_000);
    const deployS = (performance.now() - t0) / 1000;
    console.log(`deploy ${UNITS} units of source (local-process) to all idle: ${deployS.toFixed(1)} s`);

    // utime + stime of the controller process, in seconds (/proc/<pid>/stat fields 14 and 15).
    const pid = readFileSync(join(c.home, 'controllers', NAME, 'controller.pid'), 'utf8').trim();
    const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const cpu = () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / tick;
    };
    const cpu0 = cpu();
    const churnStart = Date.now();
    // Hooks run, from the agents' log lines: slower agents coalesce more changes into one hook.
    const hooksRun = () => {
      const db = new Database(join(c.home, 'controllers', NAME, 'state.db'), { readonly: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM logs WHERE message = 'ran \"config-changed\" hook' AND at >= ?").get(churnStart) as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const health: number[] = [];
    let whileSending = 0;
    let churning = true;
    const poller = (async () => {
      while (churning) {
        const t = performance.now();
        await api('GET /api/health');
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - t))));
      }
    })();

    const calls: number[] = [];
    const start = performance.now();
    for (let i = 1; i <= CHANGES; i++) {
      const t = performance.now();
      await api('POST /api/models/:model/applications/:app/config', { params: { model: 'default', app: 'source' }, body: { set: { token: `v${i}` }, reset: [] } });
      calls.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, Math.max(0, PACE_MS - (performance.now() - t))));
    }
    const lastSent = performance.now();
    whileSending = health.length;
    const cpuSending = cpu() - cpu0;
    const a = stats(calls);
    console.log(`config churn, ${CHANGES} changes to ${UNITS} units, one every ${PACE_MS} ms (sent over ${((lastSent - start) / 1000).toFixed(1)} s):`);
    console.log(`  config API calls: p50 ${ms(a.median)}, p99 ${ms(a.p99)}, max ${ms(a.max)}`);
    const last = `token=v${CHANGES}`;
    let behind: string[] = [];
    let convergeS: number | undefined;
    try {
      convergeS =
        (await until((us) => {
          behind = us.filter((u) => u.message !== last).map((u) => u.message);
          return us.length === UNITS && behind.length === 0;
        }, 'the last value', CONVERGE_MS)) / 1000;
      console.log(`  every unit shows the last value ${convergeS.toFixed(1)} s after the last change was sent`);
    } catch {
      const lost = behind.filter((m) => m.startsWith('agent lost')).length;
      console.log(`  NOT converged ${CONVERGE_MS / 1000} s after the last change was sent: ${behind.length} units behind, ${lost} of them with their agent lost (${behind.filter((m) => !m.startsWith('agent lost')).join(', ')})`);
      // Why: the last line of each machine agent's own output (local-process keeps it in
      // SIGIL_HOME; agents log to the controller, so it is empty unless one failed).
      const endings = new Map<string, number>();
      for (const f of readdirSync(c.home, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('agent.log'))) {
        const last = readFileSync(join(c.home, f), 'utf8').trimEnd().split('\n').pop()!.slice(0, 300);
        if (last !== '') endings.set(last, (endings.get(last) ?? 0) + 1);
      }
      for (const [line, n] of [...endings].sort((a, b) => b[1] - a[1]).slice(0, 3)) console.log(`    ${n} agent logs end with: ${line}`);
    }
    const cpuUsed = cpu() - cpu0;
    churning = false;
    await poller;
    const h = stats(health.slice(0, whileSending));
    const all = stats(health);
    console.log(`  /api/health while the changes were sent (${whileSending} calls): p50 ${ms(h.median)}, p99 ${ms(h.p99)}, max ${ms(h.max)}; until the end (${health.length} calls): p50 ${ms(all.median)}, p99 ${ms(all.p99)}`);
    const hooks = hooksRun();
    console.log(`  controller CPU while the changes were sent: ${cpuSending.toFixed(1)} s; until the end: ${cpuUsed.toFixed(1)} s, for ${hooks} config-changed hooks run (${ms((cpuUsed * 1000) / hooks)} per hook)`);
    agent.destroy();
    return { deployS, call: a, convergeS, health: h, cpuS: cpuUsed, hooks };
  } finally {
    if (process.env.KEEP) console.log(`kept SIGIL_HOME=${c.home}`);
    else c.close();
  }
}

const base = BASE === 'none' ? undefined : buildAt(BASE);
const label = base && `before the view deltas (${base.sha.slice(0, 7)}, built in ${base.root})`;
if (process.env.ONLY === 'before' && base) await churn(label!, base.sigil, base.root);
const after = process.env.ONLY === 'before' ? undefined : await churn('current build', SIGIL, ROOT);
if (base && after) {
  const before = await churn(label!, base.sigil, base.root);
  const x = (b: number | undefined, a: number | undefined) => (b === undefined || a === undefined ? 'n/a (did not converge)' : `${(b / a).toFixed(1)}x`);
  const row = (what: string, b: string, a: string, r: string) => console.log(`  ${what.padEnd(34)} ${b.padStart(12)} ${a.padStart(12)} ${r.padStart(8)}`);
  const s = (v: number | undefined) => (v === undefined ? 'timed out' : `${v.toFixed(1)} s`);
  console.log(`\nconfig churn, ${CHANGES} changes to ${UNITS} units, same host, same run (before / after = how many times slower before):`);
  row('', 'before', 'after', 'ratio');
  row('config call p50', ms(before.call.median), ms(after.call.median), x(before.call.median, after.call.median));
  row('config call p99', ms(before.call.p99), ms(after.call.p99), x(before.call.p99, after.call.p99));
  row('every unit has the last value', s(before.convergeS), s(after.convergeS), x(before.convergeS, after.convergeS));
  row('/api/health p50 while sending', ms(before.health.median), ms(after.health.median), x(before.health.median, after.health.median));
  row('/api/health p99 while sending', ms(before.health.p99), ms(after.health.p99), x(before.health.p99, after.health.p99));
  row('controller CPU until converged', `${before.cpuS.toFixed(1)} s`, `${after.cpuS.toFixed(1)} s`, x(before.cpuS, after.cpuS));
  row('config-changed hooks run', String(before.hooks), String(after.hooks), '');
}

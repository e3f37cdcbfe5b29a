// What TLS and authorisation cost (issue 12): `status --format json` of a 1,000-unit model
// and a hook-tool call (an agent route round trip: a relation-set committed by a unit),
// against one store, in one process, through three servers:
//   before  plain HTTP, no authorisation (the routes alone: every caller taken as trusted);
//   authz   plain HTTP, the real server's authorisation (route table, token lookup, audit);
//   after   HTTPS with the controller's CA and certificate, and authorisation (what ships).
// Calls to the three are interleaved, so load from anything else on the machine falls on
// all of them alike. The status call opens a new connection each time, as each CLI run does
// (its TLS handshake included); the agent keeps its connection open, as the agent does.
// Goal: `after` within 10 % of `before`.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { openDb } from '../packages/controller/src/store/db.ts';
import { Store } from '../packages/controller/src/store/store.ts';
import { Services } from '../packages/controller/src/services.ts';
import { silentLogger } from '../packages/controller/src/logger.ts';
import { buildServer } from '../packages/controller/src/apiserver/server.ts';
import { registerClientRoutes } from '../packages/controller/src/apiserver/client-routes.ts';
import { registerAgentRoutes } from '../packages/controller/src/apiserver/agent-routes.ts';
import { createControllerPki } from '../packages/cli/src/tls/pki.ts';
import { SIGIL, ms, stats, timeCmd } from './lib.ts';

const STATUS_RUNS = Number(process.env.STATUS_RUNS ?? 40);
const TOOL_RUNS = Number(process.env.TOOL_RUNS ?? 400);
const CLI_RUNS = Number(process.env.CLI_RUNS ?? 10);
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'sigil-bench-auth-'));
const store = new Store(openDb(join(dir, 'state.db')));
const svc = new Services(store, silentLogger, 'bench', createHash('sha256').update(ADMIN_TOKEN).digest('hex'), join(dir, 'controller.log'), () => {});
const servers: FastifyInstance[] = [];
try {
  // The model: 20 applications of 50 units on 20 machines, and one relation for the hook.
  svc.models.add('default');
  const meta = (m: string) => ({ files: [{ path: 'metadata.yaml', mode: 0o644, data: Buffer.from(m).toString('base64') }] });
  const app = svc.charms.add('default', meta('name: app\nsummary: s\ndescription: d\nrequires:\n  db: {interface: pgsql}\nprovides:\n  web: {interface: http}\n'));
  const pg = svc.charms.add('default', meta('name: pg\nsummary: s\ndescription: d\nprovides:\n  db: {interface: pgsql}\n'));
  const ids = Array.from({ length: 20 }, () => svc.machines.add('default', { constraints: '', autoRemove: false }).id);
  ids.forEach((id, i) => svc.machines.provisioned('default', id, { instanceId: `sim-${id}`, address: `127.250.0.${i + 2}`, hostname: 'sim' }));
  for (let a = 0; a < 20; a++) {
    svc.applications.deploy({ model: 'default', app: `app${a}`, charmUrl: app.url, numUnits: 0, config: {}, constraints: '', to: [] });
    svc.units.add('default', `app${a}`, 50, ids);
  }
  svc.applications.deploy({ model: 'default', app: 'pg', charmUrl: pg.url, numUnits: 0, config: {}, constraints: '', to: [] });
  const rel = svc.relations.integrate('default', 'app0', 'pg').id;
  const unit = 'app0/0';
  const machine = svc.reads.unit('default', unit)!.machine!;
  const machineToken = svc.machines.issueToken('default', machine);
  const unitCount = svc.reads.units('default').length;

  // before: the same routes with nobody checked (what the API was before issue 12).
  const bare = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024, routerOptions: { maxParamLength: 512 } });
  const machineRow = svc.reads.machine('default', machine)!;
  bare.decorateRequest('principal', null as never);
  bare.addHook('onRequest', async (req) => {
    req.principal = req.url.startsWith('/api/agent/') ? { kind: 'machine', machine: machineRow } : { kind: 'user', name: 'admin', superuser: true, role: 'admin' };
  });
  bare.get('/api/health', async () => ({ ok: true, revision: svc.store.revision() }));
  registerClientRoutes(bare, svc);
  registerAgentRoutes(bare, svc);
  const pki = await createControllerPki('bench', ['127.0.0.1']);
  const plainAuthz = buildServer(svc);
  const tls = buildServer(svc, { key: pki.key, cert: pki.cert });
  servers.push(bare, plainAuthz, tls);
  const port = async (s: FastifyInstance) => {
    await s.listen({ host: '127.0.0.1', port: 0 });
    return (s.server.address() as AddressInfo).port;
  };
  const targets = [
    { name: 'before (HTTP, no authorisation)', url: `http://127.0.0.1:${await port(bare)}`, tls: false },
    { name: 'authz  (HTTP, authorisation)', url: `http://127.0.0.1:${await port(plainAuthz)}`, tls: false },
    { name: 'after  (HTTPS, authorisation)', url: `https://127.0.0.1:${await port(tls)}`, tls: true },
  ];

  const keepAlive = { http: new HttpAgent({ keepAlive: true, maxSockets: 1 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: pki.caCert }) };
  const call = (t: (typeof targets)[number], method: string, path: string, token: string, body: unknown, reuse: boolean) =>
    new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers = { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) };
      const agent = reuse ? (t.tls ? keepAlive.https : keepAlive.http) : false;
      const req = (t.tls ? httpsRequest : httpRequest)(t.url + path, { method, headers, agent, ...(t.tls ? { ca: pki.caCert } : {}) }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  const timed = async (f: () => Promise<{ status: number; bytes: number }>) => {
    const t = performance.now();
    const r = await f();
    const took = performance.now() - t;
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return { took, bytes: r.bytes };
  };

  const statusTimes = targets.map(() => [] as number[]);
  let statusBytes = 0;
  // One warm-up round each (JIT, first TLS session), then the measured rounds.
  for (let i = -2; i < STATUS_RUNS; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await timed(() => call(t, 'GET', '/api/models/default/status', ADMIN_TOKEN, undefined, false));
      statusBytes = r.bytes;
      if (i >= 0) statusTimes[k]!.push(r.took);
    }
  }
  // Where the status difference goes: the same call over a kept-alive connection (no
  // handshake), and the handshake alone (a new connection for the smallest call).
  const keptTimes = targets.map(() => [] as number[]);
  const healthTimes = targets.map(() => [] as number[]);
  for (let i = -2; i < STATUS_RUNS; i++) {
    for (const [k, t] of targets.entries()) {
      const kept = await timed(() => call(t, 'GET', '/api/models/default/status', ADMIN_TOKEN, undefined, true));
      const health = await timed(() => call(t, 'GET', '/api/health', ADMIN_TOKEN, undefined, false));
      if (i >= 0) {
        keptTimes[k]!.push(kept.took);
        healthTimes[k]!.push(health.took);
      }
    }
  }
  const toolTimes = targets.map(() => [] as number[]);
  let n = 0;
  for (let i = -20; i < TOOL_RUNS; i++) {
    for (const [k, t] of targets.entries()) {
      const body = { unit, hook: 'db-relation-changed', relationUnit: { [rel]: { seq: String(n++) } }, relationApp: {}, leaderSettings: {}, unitState: {}, openPorts: [], closePorts: [] };
      const r = await timed(() => call(t, 'POST', '/api/agent/commit', machineToken, body, true));
      if (i >= 0) toolTimes[k]!.push(r.took);
    }
  }

  const report = (what: string, times: number[][]) => {
    console.log(what);
    const base = stats(times[0]!);
    for (const [k, t] of targets.entries()) {
      const s = stats(times[k]!);
      const ratio = k === 0 ? '' : `  (${s.median >= base.median ? '+' : ''}${(((s.median - base.median) / base.median) * 100).toFixed(1)} % median, ${(s.p99 / base.p99).toFixed(2)}x p99)`;
      console.log(`  ${t.name}: median ${ms(s.median)}, p99 ${ms(s.p99)}${ratio}`);
    }
  };
  report(`status --format json API, ${unitCount} units (${(statusBytes / 1024).toFixed(0)} KiB), a new connection per call, ${STATUS_RUNS} runs:`, statusTimes);
  report(`  the same over a kept-alive connection, ${STATUS_RUNS} runs:`, keptTimes);
  report(`  GET /api/health on a new connection (the connection and handshake alone), ${STATUS_RUNS} runs:`, healthTimes);
  report(`hook-tool call (POST /api/agent/commit, relation-set), kept-alive connection, ${TOOL_RUNS} runs:`, toolTimes);
  // The command as a user runs it: `sigil status --format json` (a new process: Node's
  // start-up, the CLI, one HTTPS call with its handshake) against the HTTPS server. The CLI
  // speaks only HTTPS, so there is no "before" run of it; the API's difference is set against it.
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, 'controllers.yaml'), JSON.stringify({ 'current-controller': 'bench', controllers: { bench: { endpoint: targets[2]!.url, dir: join(home, 'controllers', 'bench'), provider: 'local-process', 'current-model': 'default', 'ca-cert': pki.caCert } } }));
  writeFileSync(join(home, 'accounts.yaml'), JSON.stringify({ controllers: { bench: { user: 'admin', token: ADMIN_TOKEN } } }), { mode: 0o600 });
  const env = { ...process.env, SIGIL_HOME: home };
  const cli: number[] = [];
  for (let i = -1; i < CLI_RUNS; i++) {
    const t = await timeCmd(SIGIL, ['status', '--format', 'json'], env);
    if (i >= 0) cli.push(t);
  }
  const c = stats(cli);
  const added = stats(statusTimes[2]!).median - stats(statusTimes[0]!).median;
  console.log(`sigil status --format json (a CLI run, HTTPS with authorisation), ${CLI_RUNS} runs: median ${ms(c.median)}, p99 ${ms(c.p99)}; TLS and authorisation add ${ms(added)} of it (${((added / (c.median - added)) * 100).toFixed(1)} % over the same command without them)`);
  const cost = (times: number[][]) => ((stats(times[2]!).median - stats(times[0]!).median) / stats(times[0]!).median) * 100;
  console.log(`TLS + authorisation cost on the median: status ${cost(statusTimes).toFixed(1)} %, hook-tool call ${cost(toolTimes).toFixed(1)} % (goal < 10 %)`);
} finally {
  for (const s of servers) await s.close();
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
}

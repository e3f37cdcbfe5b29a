// HAProxy reconfiguration under load: haproxy + 2 http-backend units on LXC machines,
// requests from the host through the published port at a steady rate (a new connection
// each), plus slow requests held open across the reloads; meanwhile 10 configuration
// changes that each rewrite haproxy.cfg and reload HAProxy. Prints requests sent,
// failed or refused (target: 0), slow requests cut (target: 0) and the durations.
// Needs root on Linux.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import type { ModelStatusDoc } from '@sigil/api';
import { ROOT, SIGIL, ms, stats, withController } from './lib.ts';

const RATE = 50; // requests per second
const RECONFIGURATIONS = 10;

if (process.getuid?.() !== 0) {
  console.log('haproxy-reload: skipped (needs root for LXC machines)');
  process.exit(0);
}

function get(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const c = withController('bench-haproxy', ['--provider', 'lxc']);
// Async, unlike c.run: the load generator must keep its pace while the CLI runs.
const sigil = (args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(SIGIL, args, { env: { ...process.env, SIGIL_HOME: c.home } }, (err, stdout, stderr) => (err ? reject(new Error(`sigil ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  );
const reloads = async () => {
  const py = `import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/haproxy-master.sock'); s.settimeout(5); s.sendall(b'show proc\\n'); s.shutdown(socket.SHUT_WR); print(s.makefile().read())`;
  const out = await sigil(['exec', '--unit', 'haproxy/0', '--', `python3 -c "${py}"`]);
  return Number(/^\d+\s+master\s+(\d+)/m.exec(out)?.[1] ?? NaN);
};

try {
  let t = performance.now();
  c.run(['deploy', `${ROOT}/charms/haproxy`]);
  c.run(['deploy', `${ROOT}/tests/charms/http-backend`, '-n', '2']);
  c.run(['integrate', 'haproxy:reverseproxy', 'http-backend:website']);
  c.run(['expose', 'haproxy']);
  c.run(['wait', '--timeout', '10m']);
  const s = JSON.parse(c.run(['status', '--format', 'json'])) as ModelStatusDoc;
  const published = s.applications.haproxy?.units?.['haproxy/0']?.['published-ports']?.find((p) => p.endsWith('->80/tcp'));
  if (!published) throw new Error(`haproxy/0 has no published port for 80/tcp: ${JSON.stringify(s.applications.haproxy?.units)}`);
  const port = Number(/^\*:(\d+)->/.exec(published)![1]);
  console.log(`deploy haproxy + 2 backends to settled: ${((performance.now() - t) / 1000).toFixed(1)} s; site on 127.0.0.1:${port}`);

  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  let slowSent = 0;
  let slowCut = 0;
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const fire = () => {
    sent++;
    const start = performance.now();
    track(
      get(port, '/', 10_000).then(
        (r) => void (r.status === 200 ? latencies.push(performance.now() - start) : fail(`HTTP ${r.status}`)),
        (e: Error) => void fail(e.message),
      ),
    );
  };
  // Established connections across reloads: a 3 s request started every second.
  const fireSlow = () => {
    slowSent++;
    track(get(port, '/slow?s=3', 20_000).then((r) => void (r.status === 200 || slowCut++), () => void slowCut++));
  };
  const pace = setInterval(fire, 1000 / RATE);
  const slowPace = setInterval(fireSlow, 1000);

  const reloadsBefore = await reloads();
  t = performance.now();
  const each: number[] = [];
  for (let i = 0; i < RECONFIGURATIONS; i++) {
    const t0 = performance.now();
    await sigil(['config', 'haproxy', `check-inter=${i % 2 === 0 ? '3s' : '2s'}`]);
    await sigil(['wait', '--timeout', '2m']);
    each.push(performance.now() - t0);
  }
  const duration = performance.now() - t;
  const reloaded = (await reloads()) - reloadsBefore;
  await new Promise((r) => setTimeout(r, 3500)); // let the last slow requests finish
  clearInterval(pace);
  clearInterval(slowPace);
  await Promise.all(inflight);

  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const lat = stats(latencies);
  const e = stats(each);
  console.log(`${RECONFIGURATIONS} reconfigurations (config change to settled, ${reloaded} HAProxy reloads) in ${(duration / 1000).toFixed(1)} s; each: median ${ms(e.median)}, max ${ms(e.max)}`);
  console.log(`requests at ${RATE}/s, a new connection each: ${sent} sent, ${failed} failed or refused (target 0)${failed ? ': ' + [...failures].map(([k, v]) => `${v}× ${k}`).join(', ') : ''}`);
  console.log(`slow requests (3 s) spanning reloads: ${slowSent} sent, ${slowCut} cut (target 0)`);
  console.log(`latency through HAProxy: median ${ms(lat.median)}, p99 ${ms(lat.p99)}, max ${ms(lat.max)}`);
} finally {
  c.close();
}

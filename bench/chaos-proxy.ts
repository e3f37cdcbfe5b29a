// The chaos proxy's cost on loopback, in one run: per-request latency it adds (p50/p99 of
// an echo round trip through the proxy minus direct), and throughput on one connection
// (direct, through the proxy with no toxic, and with a latency 0 toxic so every chunk goes
// through the toxic pipeline). Client, servers and proxy are separate processes, as they
// would be in use. Prints figures; never passes or fails on them.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { ProxyCollection, parseToxic } from '@sigil/chaos';

const ROUND_TRIPS = 5000;
const BYTES = 512 * 1024 * 1024;

type Msg = { ports?: number[]; done?: number; ok?: boolean; cmd?: string; arg?: unknown };

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Child: an echo server and a sink that reports each `target` bytes received. */
async function servers(): Promise<void> {
  const echo = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  const sink = net.createServer((s) => {
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got === BYTES) process.send!({ done: got });
    });
  });
  process.send!({ ports: [await listen(echo), await listen(sink)] });
}

/** Child: the proxy, in front of both servers; `toxic` adds a latency 0 toxic on the sink proxy. */
async function proxy(echoPort: number, sinkPort: number): Promise<void> {
  const proxies = new ProxyCollection();
  const e = await proxies.add({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}`, enabled: true });
  const s = await proxies.add({ name: 'sink', listen: '127.0.0.1:0', upstream: `127.0.0.1:${sinkPort}`, enabled: true });
  const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));
  process.on('message', (m: Msg) => {
    if (m.cmd === 'toxic') s.addToxic(parseToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 0 } }));
    process.send!({ ok: true });
  });
  process.send!({ ports: [portOf(e.listen), portOf(s.listen)] });
}

function next(child: ChildProcess, pred: (m: Msg) => boolean): Promise<Msg> {
  return new Promise((resolve) => {
    const on = (m: Msg) => {
      if (!pred(m)) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function roundTrips(port: number): Promise<number[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  const payload = Buffer.alloc(64, 1);
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS + 500; i++) {
    const start = process.hrtime.bigint();
    let got = 0;
    await new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        got += d.length;
        if (got < payload.length) return;
        socket.off('data', on);
        resolve();
      };
      socket.on('data', on);
      socket.write(payload);
    });
    if (i >= 500) times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  socket.destroy();
  return times.sort((a, b) => a - b);
}

async function throughput(port: number, serversChild: ChildProcess): Promise<number> {
  const done = next(serversChild, (m) => m.done !== undefined);
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => socket.once('connect', r));
  const chunk = Buffer.alloc(256 * 1024, 7);
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < BYTES; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return BYTES / seconds / 1e9;
}

const role = process.argv[2];
if (role === 'servers') await servers();
else if (role === 'proxy') await proxy(Number(process.argv[3]), Number(process.argv[4]));
else {
  const serversChild = fork(process.argv[1]!, ['servers']);
  const [echoPort, sinkPort] = (await next(serversChild, (m) => m.ports !== undefined)).ports!;
  const proxyChild = fork(process.argv[1]!, ['proxy', String(echoPort), String(sinkPort)]);
  const [echoProxy, sinkProxy] = (await next(proxyChild, (m) => m.ports !== undefined)).ports!;

  // Figures from a busy machine say little: the load is printed with them.
  console.log(`machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`);
  const direct = await roundTrips(echoPort!);
  const proxied = await roundTrips(echoProxy!);
  console.log(`echo round trip, 64 bytes, ${ROUND_TRIPS} requests on one connection (µs):`);
  console.log(`  direct   p50 ${pct(direct, 50).toFixed(1)}  p99 ${pct(direct, 99).toFixed(1)}`);
  console.log(`  proxied  p50 ${pct(proxied, 50).toFixed(1)}  p99 ${pct(proxied, 99).toFixed(1)}`);
  console.log(`  added by the proxy: p50 ${(pct(proxied, 50) - pct(direct, 50)).toFixed(1)} µs, p99 ${(pct(proxied, 99) - pct(direct, 99)).toFixed(1)} µs (goal: p50 < 50 µs; Toxiproxy publishes < 100 µs)`);

  const directRate = await throughput(sinkPort!, serversChild);
  const proxiedRate = await throughput(sinkProxy!, serversChild);
  proxyChild.send({ cmd: 'toxic' });
  await next(proxyChild, (m) => m.ok === true);
  const toxicRate = await throughput(sinkProxy!, serversChild);
  console.log(`throughput, ${BYTES / 1024 / 1024} MiB on one connection (goal: >= 1 GB/s, >= 80 % of direct):`);
  console.log(`  direct                   ${directRate.toFixed(2)} GB/s`);
  console.log(`  proxied, no toxic        ${proxiedRate.toFixed(2)} GB/s (${Math.round((proxiedRate / directRate) * 100)} % of direct)`);
  console.log(`  proxied, latency 0 toxic ${toxicRate.toFixed(2)} GB/s (${Math.round((toxicRate / directRate) * 100)} % of direct)`);
  serversChild.kill();
  proxyChild.kill();
  process.exit(0);
}

// The chaos proxy's cost on loopback, in one run: per-request latency it adds (p50/p99 of
// an echo round trip through the proxy minus direct), and throughput on one connection
// (direct, through the proxy with no toxic, with a latency 0 toxic so every chunk goes
// through the toxic pipeline, and through a bare `stream.pipe` proxy: the floor any Node
// proxy pays for the extra process hop). Client, servers and proxies are separate processes,
// as they would be in use. Direct and proxied runs alternate in rounds, so a load change on
// a shared machine hits both alike; figures are medians over the rounds. Prints figures;
// never passes or fails on them.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { ProxyCollection, parseToxic } from '@sigil/chaos';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ROUND_TRIPS = 2000; // per path and round
const BYTES = 256 * 1024 * 1024; // per path and round

type Msg = { ports?: number[]; done?: number; ok?: boolean; cmd?: string };

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Child: an echo server and a sink that reports each `BYTES` received on a connection. */
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

/** A bare proxy: `pipe` both ways, nothing else (the reference for what Node itself costs). */
function pipeProxy(upstream: number): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: upstream, allowHalfOpen: true, noDelay: true });
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  return listen(server);
}

/** Child: the proxies, in front of both servers: sigil's (echo, sink, sink with a latency 0 toxic) and the bare pipe. */
async function proxy(echoPort: number, sinkPort: number): Promise<void> {
  const proxies = new ProxyCollection();
  const add = (name: string, port: number) => proxies.add({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}`, enabled: true });
  const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));
  const e = await add('echo', echoPort);
  const s = await add('sink', sinkPort);
  const t = await add('sink-toxic', sinkPort);
  t.addToxic(parseToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 0 } }));
  process.send!({ ports: [portOf(e.listen), portOf(s.listen), portOf(t.listen), await pipeProxy(echoPort), await pipeProxy(sinkPort)] });
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

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `count` echo round trips of 64 bytes on one connection, after a warm-up; µs each. */
async function roundTrips(port: number, count: number): Promise<number[]> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r) => socket.once('connect', r));
  const payload = Buffer.alloc(64, 1);
  const times: number[] = [];
  for (let i = 0; i < count + 200; i++) {
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
    if (i >= 200) times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  socket.destroy();
  return times;
}

/** GB/s of `BYTES` written on one connection until the sink has them all. */
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
  const [echoProxy, sinkProxy, toxicProxy, echoPipe, sinkPipe] = (await next(proxyChild, (m) => m.ports !== undefined)).ports!;

  // Figures from a busy machine say little: the load is printed with them.
  const load = () => loadavg()[0]!.toFixed(1);
  console.log(`machine: ${cpus().length} cores, load average ${load()} at the start`);
  const rt = { direct: [] as number[], proxied: [] as number[], pipe: [] as number[] };
  const rate = { direct: [] as number[], proxied: [] as number[], toxic: [] as number[], pipe: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    rt.direct.push(...(await roundTrips(echoPort!, ROUND_TRIPS)));
    rt.proxied.push(...(await roundTrips(echoProxy!, ROUND_TRIPS)));
    rt.pipe.push(...(await roundTrips(echoPipe!, ROUND_TRIPS)));
    rate.direct.push(await throughput(sinkPort!, serversChild));
    rate.proxied.push(await throughput(sinkProxy!, serversChild));
    rate.toxic.push(await throughput(toxicProxy!, serversChild));
    rate.pipe.push(await throughput(sinkPipe!, serversChild));
  }
  const line = (name: string, t: number[]) => `  ${name.padEnd(22)} p50 ${pct(t, 50).toFixed(1).padStart(7)}  p99 ${pct(t, 99).toFixed(1).padStart(7)}`;
  const added = (t: number[]) => `p50 ${(pct(t, 50) - pct(rt.direct, 50)).toFixed(1)} µs, p99 ${(pct(t, 99) - pct(rt.direct, 99)).toFixed(1)} µs`;
  console.log(`echo round trip, 64 bytes, ${ROUNDS} rounds × ${ROUND_TRIPS} requests on one connection per path (µs):`);
  console.log(line('direct', rt.direct));
  console.log(line('sigil proxy', rt.proxied));
  console.log(line('bare pipe proxy', rt.pipe));
  console.log(`  added by the sigil proxy: ${added(rt.proxied)} (goal: p50 < 50 µs; Toxiproxy publishes < 100 µs); by a bare pipe: ${added(rt.pipe)}`);
  const median = (v: number[]) => pct(v, 50);
  const show = (name: string, v: number[]) =>
    `  ${name.padEnd(26)} ${median(v).toFixed(2)} GB/s (${Math.round((median(v) / median(rate.direct)) * 100)} % of direct; rounds ${v.map((x) => x.toFixed(2)).join(' ')})`;
  console.log(`throughput, ${BYTES / 1024 / 1024} MiB on one connection, median of ${ROUNDS} rounds (goal: >= 1 GB/s, >= 80 % of direct):`);
  console.log(show('direct', rate.direct));
  console.log(show('sigil proxy, no toxic', rate.proxied));
  console.log(show('sigil proxy, latency 0', rate.toxic));
  console.log(show('bare pipe proxy', rate.pipe));
  console.log(`machine: load average ${load()} at the end`);
  serversChild.kill();
  proxyChild.kill();
  process.exit(0);
}

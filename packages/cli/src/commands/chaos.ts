import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeFaults, type ChaosFaults } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Ctx, FormatOpt } from '../context.ts';
import { renderTable } from '../render/table.ts';
import { parseDrill, runCheck, summarize, type DrillReport } from './chaos-drill.ts';

interface ModelOpt {
  model?: string;
}

interface AddOpts extends ModelOpt {
  latency?: string;
  jitter?: string;
  toxicity?: string;
  down?: boolean;
  httpError?: string;
  rate?: string;
}

/** The faults body of `chaos add`, from its flags; bad values are refused before anything is sent. */
export function faultsFromFlags(o: AddOpts): ChaosFaults {
  const faults: ChaosFaults = {};
  const ms = (flag: string, text: string) => {
    const v = parseDuration(text);
    if (!Number.isInteger(v)) throw new SigilError('bad-request', `--${flag} ${text} is not a whole number of milliseconds`, `for example --${flag} 200ms`);
    return v;
  };
  const fraction = (flag: string, text: string) => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new SigilError('bad-request', `--${flag} ${text} is outside 0..1`, `a share between 0 and 1, e.g. --${flag} 0.3`);
    return v;
  };
  if (o.latency !== undefined) faults.latencyMs = ms('latency', o.latency);
  if (o.jitter !== undefined) faults.jitterMs = ms('jitter', o.jitter);
  if (o.toxicity !== undefined) faults.toxicity = fraction('toxicity', o.toxicity);
  if (o.down) faults.down = true;
  if (o.httpError !== undefined) {
    const status = Number(o.httpError);
    if (!/^\d{3}$/.test(o.httpError) || status < 100 || status > 599) throw new SigilError('bad-request', `--http-error ${o.httpError} is not an HTTP status`, 'for example --http-error 503');
    faults.httpError = { status, rate: o.rate === undefined ? 1 : fraction('rate', o.rate) };
  } else if (o.rate !== undefined) {
    throw new SigilError('bad-request', '--rate needs --http-error', 'for example --http-error 503 --rate 0.2');
  }
  if (Object.keys(faults).length === 0 || (Object.keys(faults).length === 1 && faults.toxicity !== undefined)) {
    throw new SigilError('bad-request', 'no fault given', 'name at least one of --latency, --down or --http-error');
  }
  return faults;
}

export function registerChaos(program: Command, ctx: Ctx): void {
  const chaos = program.command('chaos').description('fault injection: a Toxiproxy-compatible proxy on relations');
  const withModel = (c: Command) => c.option('-m, --model <model>', 'model to operate in');

  withModel(chaos.command('add'))
    .description("put a chaos proxy between a relation's consumer and provider units")
    .argument('<app>', 'APP[:ENDPOINT]')
    .argument('<remote-app>', 'the other application of the relation')
    .option('--latency <duration>', 'delay every response, e.g. 200ms')
    .option('--jitter <duration>', 'vary the latency by up to this much either way')
    .option('--toxicity <share>', 'share of connections affected, 0..1 (default 1)')
    .option('--down', 'refuse connections, as if the provider were down')
    .option('--http-error <status>', 'answer this HTTP status instead of forwarding')
    .option('--rate <share>', 'share of requests answered with --http-error, 0..1 (default 1)')
    .action(async (a: string, b: string, o: AddOpts) => {
      const faults = faultsFromFlags(o);
      const c = ctx.client(o.model);
      const entry = await c.call('POST /api/models/:model/chaos', { body: { a, b, faults } });
      ctx.out(`chaos on ${entry.key}: ${describeFaults(entry.faults)}`);
      for (const l of entry.listeners) ctx.out(`  ${entry.consumer} reaches ${l.unit} ${l.host}:${l.port} through ${l.listen}`);
    });

  withModel(chaos.command('list'))
    .description('relations under chaos')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: ModelOpt & FormatOpt) => {
      const c = ctx.client(o.model);
      const entries = await c.call('GET /api/models/:model/chaos');
      ctx.print(entries, o.format, () =>
        entries.length === 0
          ? 'No relation is under chaos.'
          : renderTable(['Relation', 'Consumer', 'Provider', 'Faults', 'Proxies'], entries.map((e) => [e.key, e.consumer, e.provider, describeFaults(e.faults), e.listeners.map((l) => `${l.unit}:${l.port}->${l.listen}`).join(' ')])),
      );
    });

  withModel(chaos.command('remove'))
    .description("take chaos off a relation: the consumer gets the provider's real address back")
    .argument('<app>', 'APP[:ENDPOINT]')
    .argument('<remote-app>')
    .action(async (a: string, b: string, o: ModelOpt) => {
      const c = ctx.client(o.model);
      const r = await c.call('POST /api/models/:model/chaos/remove', { body: { a, b } });
      ctx.out(`chaos removed from ${r.removed}`);
    });

  withModel(chaos.command('reset'))
    .description('take chaos off every relation of the model')
    .action(async (o: ModelOpt) => {
      const c = ctx.client(o.model);
      const r = await c.call('POST /api/models/:model/chaos/reset');
      ctx.out(r.removed.length === 0 ? 'No relation was under chaos.' : `chaos removed from ${r.removed.join(', ')}`);
    });

  withModel(chaos.command('partition'))
    .description('drop traffic to and from machines (nftables on the LXC bridge), as a cut cable; heals itself after --for')
    .argument('<target>', 'MACHINE (an id), UNIT (its machine) or APP (all its machines)')
    .option('--from <other>', 'cut only from this MACHINE, UNIT or APP (default: from everything, the controller included)')
    .option('--one-way', 'drop only traffic from --from to the target')
    .option('--for <duration>', 'heal by itself after this long (the kernel does it, even if the CLI and the controller are gone)')
    .action(async (target: string, o: ModelOpt & { from?: string; oneWay?: boolean; for?: string }) => {
      const forMs = o.for === undefined ? undefined : parseDuration(o.for);
      if (forMs !== undefined && (forMs < 1000 || forMs > 86_400_000)) throw new SigilError('bad-request', `--for ${o.for} is outside 1s..24h`, 'for example --for 30s');
      if (o.oneWay && o.from === undefined) throw new SigilError('bad-request', '--one-way needs --from', 'for example: sigil chaos partition 1 --from 2 --one-way');
      const c = ctx.client(o.model);
      const r = await c.call('POST /api/models/:model/chaos/partition', { body: { target, ...(o.from === undefined ? {} : { from: o.from }), ...(o.oneWay ? { oneWay: true } : {}), ...(forMs === undefined ? {} : { forMs }) } });
      ctx.out(`partitioned ${r.targets.join(', ')} from ${r.from.length ? r.from.join(', ') : 'everything'}${o.oneWay ? ' (one way)' : ''}${o.for ? ` for ${o.for}` : ' until `sigil chaos heal`'}`);
    });

  withModel(chaos.command('heal'))
    .description('undo every partition on the controller bridge')
    .action(async (o: ModelOpt) => {
      const c = ctx.client(o.model);
      await c.call('POST /api/models/:model/chaos/heal');
      ctx.out('healed: no partition left');
    });

  withModel(chaos.command('partitions'))
    .description('partitions in force, and how long the timed ones have left')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: ModelOpt & FormatOpt) => {
      const c = ctx.client(o.model);
      const p = await c.call('GET /api/models/:model/chaos/partitions');
      const left = (s?: number) => (s === undefined ? 'until healed' : `${s}s left`);
      ctx.print(p, o.format, () =>
        p.cut.length + p.pairs.length === 0
          ? 'No partition.'
          : renderTable(['Dropped', 'Heals'], [...p.cut.map((x) => [`${x.address} <-> everything`, left(x.expiresSeconds)]), ...p.pairs.map((x) => [`${x.from} -> ${x.to}`, left(x.expiresSeconds)])]),
      );
    });

  withModel(chaos.command('drill'))
    .description('a rehearsal: each fault of FILE in turn, with its check run over and over, then a report per fault')
    .argument('<file>', 'YAML: faults: [{name, relation: [APP[:EP], REMOTE], latency|down|http-error…, duration: 30s, interval: 500ms, check: CMD}]')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (file: string, o: ModelOpt & FormatOpt) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new SigilError('bad-request', `cannot read ${file}: ${(e as Error).message}`, 'give the path of a drill YAML file');
      }
      const faults = parseDrill(text);
      for (const f of faults) faultsFromFlags(f.flags);
      const c = ctx.client(o.model);
      const reports: DrillReport[] = [];
      for (const f of faults) {
        const [a, b] = f.relation;
        ctx.info(`drill: ${f.name}: chaos on ${a} ${b} for ${f.durationMs / 1000}s`);
        const entry = await c.call('POST /api/models/:model/chaos', { body: { a, b, faults: faultsFromFlags(f.flags) } });
        const samples: { ms: number; ok: boolean }[] = [];
        try {
          // The checks start once the consumer's charm has taken in the proxy's address.
          const settleBy = Date.now() + 120_000;
          while (!(await c.call('GET /api/models/:model/wait', { query: { apps: entry.consumer } })).settled) {
            if (Date.now() > settleBy) throw new SigilError('timeout', `${entry.consumer} did not settle within 2 minutes of the chaos`, 'see `sigil status` and `sigil debug-log`');
            await new Promise((r) => setTimeout(r, 250));
          }
          const end = Date.now() + f.durationMs;
          while (Date.now() < end) {
            samples.push(await runCheck(f.check));
            const left = end - Date.now();
            if (left > 0) await new Promise((r) => setTimeout(r, Math.min(f.intervalMs, left)));
          }
        } finally {
          await c.call('POST /api/models/:model/chaos/remove', { body: { a, b } });
        }
        reports.push(summarize(f.name, samples));
      }
      ctx.print(reports, o.format, () => renderTable(['Fault', 'Requests', 'Errors', 'p50', 'p99'], reports.map((r) => [r.name, String(r.requests), String(r.errors), `${r.p50Ms}ms`, `${r.p99Ms}ms`])));
    });

  chaos
    .command('serve')
    .description("run a standalone chaos proxy daemon with Toxiproxy's HTTP API (clients such as toxiproxy-node-client work unchanged)")
    .option('--host <host>', 'address of the API', '127.0.0.1')
    .option('--port <port>', 'port of the API', '8474')
    .option('--config <file>', 'JSON array of proxies to create at start (as POST /populate)')
    .option('--seed <n>', 'seed for the toxicity draws, for repeatable runs')
    .action(async (o: { host: string; port: string; config?: string; seed?: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SigilError('bad-request', `--port ${o.port} is not a port`, 'for example --port 8474');
      const { ProxyCollection, parseProxyInput, seededRandom, serveApi } = await import('@sigil/chaos');
      let random: (() => number) | undefined;
      if (o.seed !== undefined) {
        if (!/^\d+$/.test(o.seed)) throw new SigilError('bad-request', `--seed ${o.seed} is not a whole number`, 'for example --seed 42');
        random = seededRandom(Number(o.seed));
      }
      const proxies = new ProxyCollection(random ? { random } : {});
      if (o.config !== undefined) {
        let list: unknown;
        try {
          list = JSON.parse(readFileSync(o.config, 'utf8'));
        } catch (e) {
          throw new SigilError('bad-request', `cannot read ${o.config}: ${(e as Error).message}`, 'the file is a JSON array of {name, listen, upstream}');
        }
        if (!Array.isArray(list)) throw new SigilError('bad-request', `${o.config} is not a JSON array`, 'the file is a JSON array of {name, listen, upstream}');
        const inputs = list.map((item, i) => {
          try {
            return parseProxyInput(item, {}, ` at proxy ${i + 1}`);
          } catch (e) {
            throw new SigilError('bad-request', `${o.config}: ${(e as Error).message}`, 'each proxy needs a name and an upstream');
          }
        });
        for (const input of inputs) await proxies.addOrReplace(input);
      }
      const api = await serveApi(proxies, o.host, port).catch((e: NodeJS.ErrnoException) => {
        throw new SigilError('unavailable', `cannot listen on ${o.host}:${port}: ${e.code ?? e.message}`, e.code === 'EADDRINUSE' ? 'another process (a Toxiproxy?) has the port; pick another with --port' : 'check --host');
      });
      ctx.info(`chaos proxy API (Toxiproxy ${'compatible'}) on ${api.url}; ${proxies.list().length} proxies; Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await api.close();
    });
}

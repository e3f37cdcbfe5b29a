import type { Server } from 'node:net';
import { relayServer } from '@sigil/providers';
import { Reads } from '../state/rows.ts';
import { LifecycleRepository } from '../state/lifecycle.ts';
import type { WorkerContext } from './context.ts';

interface Publication {
  server: Server;
  hostPort: number;
  target: string;
}

/**
 * `expose`: every TCP port an exposed application's units have opened is published on the
 * host (all interfaces), forwarding to the unit's machine address. The same port number is
 * used when it is free, another one otherwise; status shows where. Unexposing, closing a
 * port or removing a unit withdraws it. Keyed by model; level-based: each run converges
 * that model's publications.
 */
export class Exposer {
  private readonly published = new Map<string, Publication>();
  /** What was last recorded for each model (replicas: `record` keeps the store in step for the others' status). */
  private readonly recorded = new Map<string, string>();
  /** Set where replicas share the store: records a model's publications after each change. */
  record: ((model: string, rows: { unit: string; port: number; hostPort: number }[]) => void) | undefined;

  /** Published host ports of a unit, as `*:<host port>-><port>/tcp`. */
  ports(model: string, unit: string): string[] {
    const out: string[] = [];
    for (const [key, p] of this.published) {
      const [m, u, port] = key.split('|');
      if (m === model && u === unit) out.push(`*:${p.hostPort}->${port}/tcp`);
    }
    return out.sort();
  }

  /** The models to converge on a resync: every model, and any with publications left. */
  models(ctx: WorkerContext): string[] {
    return [...new Set([...new LifecycleRepository(ctx.store).models().map((m) => m.name), ...[...this.published.keys()].map((k) => k.split('|')[0]!)])];
  }

  /** Converges one model's publications. */
  async reconcile(ctx: WorkerContext, model: string): Promise<void> {
    const reads = new Reads(ctx.store);
    const wanted = new Map<string, string>();
    // Only exposed applications' units (and their machines) are read: the cost follows what
    // is exposed, not machines × units (which stalled a controller of 1,000 machines), and
    // the stream of unit status reports costs nothing while nothing is exposed.
    for (const a of reads.apps(model)) {
      if (!a.exposed) continue;
      for (const u of reads.units(model, a.name)) {
        const m = u.machine === null ? undefined : reads.machine(model, u.machine);
        // An enlisted host has its own address, reachable where it is: nothing to publish.
        if (!m?.address || m.life !== 'alive' || u.life !== 'alive' || m.instanceId?.startsWith('manual:')) continue;
        for (const p of u.ports) {
          if (p.protocol !== 'tcp') continue;
          for (let port = p.from; port <= Math.min(p.to, p.from + 99); port++) wanted.set(`${model}|${u.name}|${port}`, `${m.address}:${port}`);
        }
      }
    }
    for (const [key, p] of this.published) {
      if (!key.startsWith(`${model}|`) || wanted.get(key) === p.target) continue;
      this.published.delete(key);
      await new Promise<void>((r) => p.server.close(() => r()));
      ctx.log.info('port unpublished', { key, hostPort: p.hostPort });
    }
    for (const [key, target] of wanted) {
      if (this.published.has(key)) continue;
      const port = Number(key.split('|')[2]);
      const [host] = target.split(':') as [string];
      const server = relayServer({ host, port });
      const hostPort = await listen(server, port).catch(() => listen(server, 0));
      this.published.set(key, { server, hostPort, target });
      ctx.log.info('port published', { key, hostPort, target });
    }
    if (this.record) {
      const rows = [...this.published].filter(([key]) => key.startsWith(`${model}|`)).map(([key, p]) => ({ unit: key.split('|')[1]!, port: Number(key.split('|')[2]), hostPort: p.hostPort }));
      const signature = JSON.stringify(rows);
      if (this.recorded.get(model) !== signature) {
        this.record(model, rows);
        this.recorded.set(model, signature);
      }
    }
  }

  /** Another replica acts on `model` now: its publications here close (that one opens its own). */
  async release(model: string): Promise<void> {
    // The store's record is the new holder's to replace (it writes on its first run).
    this.recorded.delete(model);
    for (const [key, p] of this.published) {
      if (!key.startsWith(`${model}|`)) continue;
      this.published.delete(key);
      await new Promise<void>((r) => p.server.close(() => r()));
    }
  }

  async close(): Promise<void> {
    for (const p of this.published.values()) p.server.close();
    this.published.clear();
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    server.once('error', fail);
    server.listen(port, '0.0.0.0', () => {
      server.off('error', fail);
      resolve((server.address() as { port: number }).port);
    });
  });
}

import { ProxyCollection, parseToxic, type Proxy } from '@sigil/chaos';
import type { ChaosFaults, ChaosListener } from '@sigil/api';
import { RelationChaos } from '../domain/chaos.ts';
import { Reads } from '../state/rows.ts';
import type { WorkerContext } from './context.ts';

/** Toxiproxy toxics for a relation's faults (the proxy's `enabled` carries `down`). */
export function toxicsFor(faults: ChaosFaults): Record<string, unknown>[] {
  const toxicity = faults.toxicity ?? 1;
  const out: Record<string, unknown>[] = [];
  if (faults.latencyMs !== undefined) {
    out.push({ name: 'latency', type: 'latency', stream: 'downstream', toxicity, attributes: { latency: faults.latencyMs, jitter: faults.jitterMs ?? 0 } });
  }
  if (faults.httpError) {
    out.push({ name: 'http_error', type: 'http_error', stream: 'upstream', toxicity, attributes: { status: faults.httpError.status, rate: faults.httpError.rate } });
  }
  return out;
}

/**
 * The controller's chaos proxies: one listener per provider unit and port of each relation
 * under chaos, on the address the machines reach the controller at (the host bridge for
 * LXC, loopback for local-process). Level-based: every run converges the proxies on the
 * chaos_relations table, so they come back at the same ports after a controller restart.
 */
/** How long a removed relation's proxy may stay open for its consumer to move off it. */
export const DRAIN_MS = 60_000;

export class ChaosProxies {
  readonly proxies = new ProxyCollection();
  /** Proxies of removed chaos still carrying the consumer's traffic, by name. */
  private readonly draining = new Map<string, { consumer: string; revision: number; since: number }>();

  /** @param bridge the LXC bridge of this controller's machines (partitions need one). */
  constructor(readonly listenHost: string, readonly bridge?: string) {}

  static proxyName(model: string, relationId: number, unit: string, port: number): string {
    return `${model}.r${relationId}.${unit.replace('/', '-')}.${port}`;
  }

  /** The model a proxy name belongs to (model names have no dot). */
  static modelOf(proxyName: string): string {
    return proxyName.slice(0, proxyName.indexOf('.'));
  }

  /** Opens a listener (on a free port) for each target; returns them for the record. */
  async open(model: string, relationId: number, targets: { unit: string; host: string; port: number }[], faults: ChaosFaults): Promise<ChaosListener[]> {
    const out: ChaosListener[] = [];
    try {
      for (const t of targets) {
        // A proxy of that name left from chaos removed a moment ago (still draining, or not yet
        // closed by the worker) is stale: the caller checked the relation is not under chaos.
        const name = ChaosProxies.proxyName(model, relationId, t.unit, t.port);
        if (this.proxies.list().some((p) => p.name === name)) await this.proxies.remove(name);
        this.draining.delete(name);
        const proxy = await this.proxies.add({ name: ChaosProxies.proxyName(model, relationId, t.unit, t.port), listen: `${this.listenHost}:0`, upstream: `${t.host}:${t.port}`, enabled: true });
        out.push({ ...t, listen: proxy.listen });
        // The faults are on before the consumer is told the proxy's address.
        await ChaosProxies.applyFaults(proxy, faults);
      }
    } catch (e) {
      await this.closeListeners(model, relationId, out);
      throw e;
    }
    return out;
  }

  /**
   * Chaos removed from a relation: its proxies lose their faults at once (pass-through) and
   * stay open while the consumer moves back to the provider's own address, so nothing in
   * flight is cut and nothing is refused meanwhile. The worker closes each once every
   * consumer unit has settled past `revision` (the removal's) and no connection runs
   * through it, or after DRAIN_MS whatever happens.
   */
  async drain(model: string, relationId: number, listeners: ChaosListener[], consumer: string, revision: number): Promise<void> {
    for (const l of listeners) {
      const name = ChaosProxies.proxyName(model, relationId, l.unit, l.port);
      const proxy = this.proxies.list().find((p) => p.name === name);
      if (!proxy) continue;
      await ChaosProxies.applyFaults(proxy, {});
      this.draining.set(name, { consumer, revision, since: Date.now() });
    }
  }

  /** Whether a draining proxy may close: its consumer has moved off it, or it drained long enough. */
  private drained(reads: Reads, model: string, proxy: Proxy): boolean {
    const d = this.draining.get(proxy.name);
    if (!d || Date.now() - d.since > DRAIN_MS) return true;
    const moved = reads.units(model, d.consumer).every((u) => u.life !== 'alive' || u.settled >= d.revision);
    return moved && proxy.connectionCount() === 0;
  }

  async closeListeners(model: string, relationId: number, listeners: ChaosListener[]): Promise<void> {
    for (const l of listeners) {
      const name = ChaosProxies.proxyName(model, relationId, l.unit, l.port);
      if (this.proxies.list().some((p) => p.name === name)) await this.proxies.remove(name);
    }
  }

  private static async applyFaults(proxy: Proxy, faults: ChaosFaults): Promise<void> {
    const wanted = toxicsFor(faults);
    const have = proxy.toxicList();
    const same = wanted.length === have.length && wanted.every((w, i) => JSON.stringify(w) === JSON.stringify({ name: have[i]!.name, type: have[i]!.type, stream: have[i]!.stream, toxicity: have[i]!.toxicity, attributes: have[i]!.attributes }));
    if (!same) {
      proxy.removeAllToxics();
      for (const w of wanted) proxy.addToxic(parseToxic(w));
    }
    if (faults.down && proxy.enabled) await proxy.stop();
    if (!faults.down && !proxy.enabled) await proxy.start();
  }

  /**
   * Brings one model's proxies (every model's without one) in step with its recorded chaos:
   * reopens what a restart lost, drops what a removed relation left.
   */
  async reconcile(ctx: WorkerContext, model?: string, o: { open?: boolean } = {}): Promise<void> {
    const chaos = new RelationChaos(ctx.store);
    const reads = new Reads(ctx.store);
    const wanted = new Set<string>();
    for (const entry of chaos.all()) {
      if (model !== undefined && entry.model !== model) continue;
      const relation = reads.relation(entry.model, entry.relationId);
      if (!relation || relation.life !== 'alive') {
        // The relation is going or gone: its chaos goes with it.
        chaos.delete(entry.model, entry.relationId);
        continue;
      }
      for (const l of entry.listeners) {
        const name = ChaosProxies.proxyName(entry.model, entry.relationId, l.unit, l.port);
        wanted.add(name);
        let proxy = this.proxies.list().find((p) => p.name === name);
        // Where another replica acts on the model, only the proxies this one has are kept in step.
        if (!proxy && o.open === false) continue;
        if (!proxy) {
          try {
            proxy = await this.proxies.add({ name, listen: l.listen, upstream: `${l.host}:${l.port}`, enabled: !entry.faults.down });
            ctx.log.info('chaos proxy restored', { model: entry.model, relation: entry.relationId, unit: l.unit, listen: l.listen });
          } catch (e) {
            ctx.log.warn('chaos proxy cannot listen', { model: entry.model, relation: entry.relationId, listen: l.listen, error: (e as Error).message });
            continue;
          }
        }
        await ChaosProxies.applyFaults(proxy, entry.faults);
      }
    }
    for (const proxy of this.proxies.list()) {
      const of = ChaosProxies.modelOf(proxy.name);
      if ((model !== undefined && of !== model) || wanted.has(proxy.name) || !this.drained(reads, of, proxy)) continue;
      this.draining.delete(proxy.name);
      await this.proxies.remove(proxy.name);
    }
  }

  /** Another replica acts on `model` now: this one closes the model's proxies (that one reopens them). */
  async release(model: string): Promise<void> {
    for (const proxy of this.proxies.list()) {
      if (ChaosProxies.modelOf(proxy.name) !== model) continue;
      this.draining.delete(proxy.name);
      await this.proxies.remove(proxy.name);
    }
  }

  /** The models this process has proxies open for (a destroyed model's must still be closed). */
  models(): string[] {
    return [...new Set(this.proxies.list().map((p) => ChaosProxies.modelOf(p.name)))];
  }

  async close(): Promise<void> {
    await this.proxies.close();
  }
}

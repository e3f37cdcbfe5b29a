import { describeFaults, type ChaosEntry, type ChaosFaults, type ChaosListener } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Store } from '../store/store.ts';
import { json } from '../store/store.ts';
import { ChaosRepository } from '../state/chaos.ts';
import { Reads, type RelationEndpoint, type RelationRow } from '../state/rows.ts';

type Bag = Record<string, string>;

const PORT_KEY = /(^|[-_])port$/;
const appOf = (unit: string) => unit.slice(0, unit.lastIndexOf('/'));

/** The faults in a few words, for status: `chaos: latency 200ms ±50ms, http 503 for 20% of requests`. */
export function describeChaos(f: ChaosFaults): string {
  return `chaos: ${describeFaults(f)}`;
}

/** Checks faults from outside (the API body) and returns them normalised. */
export function checkFaults(input: ChaosFaults): ChaosFaults {
  const out: ChaosFaults = {};
  const whole = (name: string, v: number | undefined, max: number) => {
    if (v === undefined) return undefined;
    if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new SigilError('bad-request', `${name} must be a whole number of ms between 0 and ${max}`, `for example --${name} 200ms`);
    return v;
  };
  const latency = whole('latency', input.latencyMs, 600_000);
  const jitter = whole('jitter', input.jitterMs, 600_000);
  if (latency !== undefined) out.latencyMs = latency;
  if (jitter !== undefined) {
    if (latency === undefined) throw new SigilError('bad-request', '--jitter needs --latency', 'for example --latency 200ms --jitter 50ms');
    out.jitterMs = jitter;
  }
  if (input.toxicity !== undefined) {
    if (!Number.isFinite(input.toxicity) || input.toxicity < 0 || input.toxicity > 1) throw new SigilError('bad-request', `toxicity ${input.toxicity} is outside 0..1`, 'toxicity is the share of connections affected, e.g. --toxicity 0.3');
    out.toxicity = input.toxicity;
  }
  if (input.down) out.down = true;
  if (input.httpError) {
    const { status, rate } = input.httpError;
    if (!Number.isSafeInteger(status) || status < 100 || status > 599) throw new SigilError('bad-request', `--http-error ${status} is not an HTTP status`, 'for example --http-error 503');
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new SigilError('bad-request', `--rate ${rate} is outside 0..1`, 'the share of requests answered with the error, e.g. --rate 0.2');
    out.httpError = { status, rate };
  }
  if (out.latencyMs === undefined && !out.down && !out.httpError) {
    throw new SigilError('bad-request', 'no fault given', 'name at least one of --latency, --down or --http-error');
  }
  return out;
}

/**
 * Relation chaos: which relations run through a chaos proxy, and the view the consumer's
 * units get of the provider's units' bags while they do. The stored bags are never
 * changed, so removing chaos restores exactly what the provider wrote, also after a
 * controller restart; the consumer's charm sees the change through `-relation-changed`
 * because the view's bag versions move forward by the relation's chaos epoch.
 */
export class RelationChaos {
  private readonly reads: Reads;
  private readonly repo: ChaosRepository;

  constructor(private readonly s: Store) {
    this.reads = new Reads(s);
    this.repo = new ChaosRepository(s);
  }

  /** `APP[:ENDPOINT] REMOTE-APP` → the one live relation it names, with its consumer and provider sides. */
  resolve(model: string, a: string, b: string): { relation: RelationRow; consumer: RelationEndpoint; provider: RelationEndpoint } {
    const [app, endpoint] = a.split(':') as [string, string | undefined];
    const [remote, remoteEndpoint] = b.split(':') as [string, string | undefined];
    const matches = this.reads.relations(model).filter((r) => {
      if (r.life !== 'alive') return false;
      const mine = r.endpoints.find((e) => e.app === app && (endpoint === undefined || e.name === endpoint));
      const theirs = r.endpoints.find((e) => e.app === remote && e !== mine && (remoteEndpoint === undefined || e.name === remoteEndpoint));
      return mine !== undefined && theirs !== undefined;
    });
    if (matches.length === 0) throw new SigilError('not-found', `no relation between ${a} and ${b}`, 'see the relations with `sigil status --relations`');
    if (matches.length > 1) throw new SigilError('ambiguous-relation', `${a} and ${b} have ${matches.length} relations`, 'name the endpoint: APP:ENDPOINT');
    const relation = matches[0]!;
    const consumer = relation.endpoints.find((e) => e.role === 'requirer');
    const provider = relation.endpoints.find((e) => e.role === 'provider');
    if (!consumer || !provider) throw new SigilError('bad-request', `relation ${relation.key} has no provider and requirer side`, 'chaos sits between a provider and its consumers (peer relations are not supported)');
    return { relation, consumer, provider };
  }

  /** The provider units' addresses and published ports a proxy must front, from their bags. */
  targets(model: string, relationId: number, provider: string): { unit: string; host: string; port: number }[] {
    const out: { unit: string; host: string; port: number }[] = [];
    for (const row of this.reads.relationSettings(model, relationId)) {
      if (row.isApp || appOf(row.owner) !== provider) continue;
      const bag = json<Bag>(row.data, {});
      const host = bag['ingress-address'] ?? bag['private-address'];
      if (!host) continue;
      const ports = new Set<number>();
      for (const [k, v] of Object.entries(bag)) if (PORT_KEY.test(k) && /^\d{1,5}$/.test(v) && Number(v) > 0 && Number(v) < 65536) ports.add(Number(v));
      for (const port of [...ports].sort((x, y) => x - y)) out.push({ unit: row.owner, host, port });
    }
    return out;
  }

  list(model: string): ChaosEntry[] {
    return this.repo.list(model).map((e) => ({ ...e, key: this.reads.relation(model, e.relationId)?.key ?? '' }));
  }

  all(): (ChaosEntry & { model: string })[] {
    return this.repo.all();
  }

  get(model: string, relationId: number): ChaosEntry | undefined {
    return this.repo.get(model, relationId);
  }

  /** Records chaos on a relation (the proxies already listen) and wakes the consumer's units. */
  put(model: string, entry: ChaosEntry): void {
    this.s.tx(() => {
      const r = this.reads.relation(model, entry.relationId);
      if (!r || r.life !== 'alive') throw new SigilError('not-found', `relation ${entry.relationId} is gone`, 'see `sigil status --relations`');
      this.repo.put(model, entry);
      this.repo.bumpEpoch(model, entry.relationId);
    });
  }

  /** Takes chaos off a relation; the consumer's view goes back to the stored bags. */
  delete(model: string, relationId: number): boolean {
    return this.s.tx(() => {
      const gone = this.repo.delete(model, relationId);
      if (gone) this.repo.bumpEpoch(model, relationId);
      return gone;
    });
  }

  /**
   * What a unit of `app` sees of relation `relationId`: how far its counterparts' bag
   * versions move (never backwards: the epoch only grows), and the provider units' bags
   * with their address and port keys pointing at the proxy. Undefined: nothing changes.
   */
  overlay(model: string, relationId: number, app: string): { epoch: number; rewrite(owner: string, data: string): string } | undefined {
    const epoch = this.repo.epoch(model, relationId);
    if (epoch === undefined) return undefined;
    // Only the consumer's view changes; after chaos is removed its versions stay moved on,
    // so the change back to the stored bags also reaches its charm.
    if (this.reads.relation(model, relationId)?.endpoints.find((x) => x.app === app)?.role !== 'requirer') return undefined;
    const entry = this.get(model, relationId);
    if (!entry) return { epoch, rewrite: (_owner, data) => data };
    return { epoch, rewrite: (owner, data) => rewriteBag(data, entry.listeners.filter((l) => l.unit === owner)) };
  }
}

/** A provider unit's bag as the consumer sees it under chaos: its address and ports swapped for the proxy's. */
export function rewriteBag(data: string, listeners: ChaosListener[]): string {
  if (listeners.length === 0) return data;
  const bag = json<Bag>(data, {});
  const host = listeners[0]!.host;
  const proxyHost = listeners[0]!.listen.slice(0, listeners[0]!.listen.lastIndexOf(':'));
  const byPort = new Map(listeners.map((l) => [String(l.port), l.listen.slice(l.listen.lastIndexOf(':') + 1)]));
  const out: Bag = {};
  for (const [k, v] of Object.entries(bag)) {
    if (v === host) out[k] = proxyHost;
    else if (PORT_KEY.test(k) && byPort.has(v)) out[k] = byPort.get(v)!;
    else if (v.startsWith(`${host}:`) && byPort.has(v.slice(host.length + 1))) out[k] = `${proxyHost}:${byPort.get(v.slice(host.length + 1))}`;
    else if (k === 'egress-subnets' && v === `${host}/32`) out[k] = `${proxyHost}/32`;
    else out[k] = v;
  }
  return JSON.stringify(out);
}

/** The faults `sigil chaos add` puts on a relation (`POST /api/models/:model/chaos`). */
export interface ChaosFaults {
  /** Added to every response (downstream), in ms. */
  latencyMs?: number;
  jitterMs?: number;
  /** Share of connections the toxics apply to (Toxiproxy's toxicity), 0..1. */
  toxicity?: number;
  /** The proxy refuses connections, as if the provider were down. */
  down?: boolean;
  /** HTTP status answered instead of forwarding, for `rate` of requests. */
  httpError?: { status: number; rate: number };
}

/** One proxy listener: a provider unit's port, reached by the consumer through `listen`. */
export interface ChaosListener {
  unit: string;
  host: string;
  port: number;
  listen: string;
}

/** A relation under chaos, as `GET /api/models/:model/chaos` lists it. */
export interface ChaosEntry {
  relationId: number;
  key: string;
  consumer: string;
  provider: string;
  endpoint: string;
  faults: ChaosFaults;
  listeners: ChaosListener[];
  created: number;
}

/** The faults in a few words: `latency 200ms ±50ms, http 503 for 20% of requests`. */
export function describeFaults(f: ChaosFaults): string {
  const parts: string[] = [];
  if (f.latencyMs !== undefined) parts.push(`latency ${f.latencyMs}ms${f.jitterMs ? ` ±${f.jitterMs}ms` : ''}`);
  if (f.down) parts.push('down');
  if (f.httpError) parts.push(`http ${f.httpError.status} for ${Math.round(f.httpError.rate * 100)}% of requests`);
  if (f.toxicity !== undefined && f.toxicity !== 1) parts.push(`toxicity ${f.toxicity}`);
  return parts.join(', ');
}

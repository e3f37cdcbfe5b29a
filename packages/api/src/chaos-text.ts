import type { ChaosFaults } from './chaos.ts';

// Apart from the schemas in chaos.ts, so the GUI can describe faults without loading them.

/** The faults in a few words: `latency 200ms ±50ms, http 503 for 20% of requests`. */
export function describeFaults(f: ChaosFaults): string {
  const parts: string[] = [];
  if (f.latencyMs !== undefined) parts.push(`latency ${f.latencyMs}ms${f.jitterMs ? ` ±${f.jitterMs}ms` : ''}`);
  if (f.down) parts.push('down');
  if (f.httpError) parts.push(`http ${f.httpError.status} for ${Math.round(f.httpError.rate * 100)}% of requests`);
  if (f.toxicity !== undefined && f.toxicity !== 1) parts.push(`toxicity ${f.toxicity}`);
  return parts.join(', ');
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import type { MetricValue } from '../hook-tools/context.ts';

/** Juju's metrics collect worker runs collect-metrics every 5 minutes, the first time at once. */
export const COLLECT_PERIOD_MS = 5 * 60 * 1000;

/**
 * When a unit's collect-metrics hook is due, and what its charm declares in metrics.yaml.
 * A charm without metrics.yaml never gets the hook (as in Juju, which starts the collect
 * worker only for charms that declare metrics).
 */
export class MetricsCollector {
  /** Declared metrics of the charm on disk (undefined: none, or not read yet). */
  declared: Record<string, { type: string; description: string }> | undefined;
  /** When the hook is next due; undefined while the charm declares no metrics. */
  nextAt: number | undefined;
  private readFor: string | undefined;

  async due(charmDir: string, charmHash: string, now: number): Promise<boolean> {
    if (this.readFor !== charmHash) {
      this.readFor = charmHash;
      this.declared = await readMetrics(charmDir);
      this.nextAt = this.declared === undefined ? undefined : (this.nextAt ?? now);
    }
    return this.nextAt !== undefined && now >= this.nextAt;
  }

  ran(now: number): void {
    if (this.nextAt !== undefined) this.nextAt = now + COLLECT_PERIOD_MS;
  }
}

/** metrics.yaml's `metrics:` map; undefined when the file is absent or declares nothing. */
export async function readMetrics(charmDir: string): Promise<Record<string, { type: string; description: string }> | undefined> {
  const text = await readFile(join(charmDir, 'metrics.yaml'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const doc = YAML.parse(text) as { metrics?: Record<string, { type?: unknown; description?: unknown } | null> } | null;
  const out: Record<string, { type: string; description: string }> = {};
  for (const [name, m] of Object.entries(doc?.metrics ?? {})) out[name] = { type: String(m?.type ?? ''), description: String(m?.description ?? '') };
  return Object.keys(out).length === 0 ? undefined : out;
}

/** One log line per metric: `metric pings=5 (labels region=eu)`. */
export function formatMetrics(values: readonly MetricValue[]): string[] {
  return values.map((m) => {
    const labels = Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
    return `metric ${m.key}=${m.value}${labels === '' ? '' : ` (labels ${labels})`}`;
  });
}

// Reads a V8 CPU profile (.cpuprofile, from node --cpu-prof) and sums self time by
// function, so a benchmark can print where the controller spent its time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The `n` functions with the most self time, as printable lines (share of all samples). */
export function topSelfTime(path: string, n: number): string[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  for (const id of p.samples) {
    const f = byId.get(id)!.callFrame;
    const where = f.url === '' ? '' : ` ${f.url.split('/').slice(-1)[0]}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = p.samples.length;
  const seconds = (p.endTime - p.startTime) / 1e6;
  return [
    `${total} samples over ${seconds.toFixed(1)} s`,
    ...[...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`),
  ];
}

import { spawn } from 'node:child_process';
import YAML from 'yaml';
import { SigilError, parseDuration } from '@sigil/core';

/** One fault of a drill file: chaos on a relation for a while, with a check run over and over. */
export interface DrillFault {
  name: string;
  relation: [string, string];
  flags: { latency?: string; jitter?: string; toxicity?: string; down?: boolean; httpError?: string; rate?: string };
  durationMs: number;
  intervalMs: number;
  check: string;
}

export interface DrillReport {
  name: string;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

const KEYS = new Set(['name', 'relation', 'latency', 'jitter', 'toxicity', 'down', 'http-error', 'rate', 'duration', 'interval', 'check']);

/**
 * Reads a drill file:
 *
 *     faults:
 *       - name: slow database
 *         relation: [wordpress:db, mariadb]
 *         latency: 2s
 *         duration: 30s
 *         check: curl -sf http://10.0.3.10/
 *
 * Everything is checked before anything runs; a mistake names the fault and the key.
 */
export function parseDrill(text: string): DrillFault[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new SigilError('bad-request', `the drill file is not YAML: ${(e as Error).message}`, 'see `sigil chaos drill --help` for its format');
  }
  const faults = (doc as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(faults) || faults.length === 0) throw new SigilError('bad-request', 'the drill file has no `faults:` list', 'see `sigil chaos drill --help` for its format');
  return faults.map((raw, i) => {
    const where = `fault ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) throw new SigilError('bad-request', `${where} is not a mapping`, 'each fault has relation, duration, check and its faults');
    const f = raw as Record<string, unknown>;
    for (const k of Object.keys(f)) if (!KEYS.has(k)) throw new SigilError('bad-request', `${where}: unknown key "${k}"`, `keys: ${[...KEYS].join(', ')}`);
    const str = (k: string) => (f[k] === undefined ? undefined : String(f[k]));
    const rel = f['relation'];
    if (!Array.isArray(rel) || rel.length !== 2 || !rel.every((x) => typeof x === 'string')) throw new SigilError('bad-request', `${where}: relation must be [APP[:ENDPOINT], REMOTE-APP]`, 'for example relation: [wordpress:db, mariadb]');
    const check = str('check');
    if (!check) throw new SigilError('bad-request', `${where}: no check command`, 'for example check: curl -sf http://10.0.3.10/');
    const durationMs = parseDuration(str('duration') ?? '30s');
    const intervalMs = parseDuration(str('interval') ?? '500ms');
    if (durationMs < 1000 || durationMs > 3_600_000) throw new SigilError('bad-request', `${where}: duration must be between 1s and 1h`, 'for example duration: 30s');
    const flags: DrillFault['flags'] = {};
    for (const [key, flag] of [['latency', 'latency'], ['jitter', 'jitter'], ['toxicity', 'toxicity'], ['http-error', 'httpError'], ['rate', 'rate']] as const) {
      const v = str(key);
      if (v !== undefined) flags[flag] = v;
    }
    if (f['down'] === true) flags.down = true;
    const [a, b] = rel as [string, string];
    return { name: str('name') ?? `${a} ${b}`, relation: [a, b], flags, durationMs, intervalMs, check };
  });
}

/** Count, errors and latency percentiles of a fault's check runs. */
export function summarize(name: string, samples: { ms: number; ok: boolean }[]): DrillReport {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { name, requests: samples.length, errors: samples.filter((s) => !s.ok).length, p50Ms: Math.round(pct(50)), p99Ms: Math.round(pct(99)) };
}

/** Runs the check once through the shell; ok when it exits 0 within 30 s. */
export function runCheck(command: string): Promise<{ ms: number; ok: boolean }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', timeout: 30_000 });
    child.on('error', () => resolve({ ms: performance.now() - start, ok: false }));
    child.on('exit', (code) => resolve({ ms: performance.now() - start, ok: code === 0 }));
  });
}

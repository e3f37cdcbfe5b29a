import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSigilError } from '@sigil/core';
import { runPhase, type RunContext } from './phases.ts';

export interface PhaseRecord {
  n: number;
  phase: string;
  at: string;
  result: 'ok' | 'failed' | 'not run' | 'dry run' | 'nothing to do';
  seconds: number;
  note?: string;
  error?: string;
}

export interface RunRecord {
  spec: string;
  stage: string;
  manifest: string;
  project: string;
  model: string;
  workspace: string;
  started: string;
  seconds: number;
  ok: boolean;
  dryRun: boolean;
  stoppedAt?: string;
  phases: PhaseRecord[];
}

export const RUN_FILE = 'spec-run.json';

/** The run as a table: each phase, where it is in the manifest, how long it took, and how it ended. */
export function renderRunTable(rec: RunRecord): string {
  const rows = [['#', 'PHASE', 'WHERE', 'TIME', 'RESULT'], ...rec.phases.map((p) => [String(p.n), p.phase, p.at, p.result === 'not run' ? '-' : `${p.seconds.toFixed(1)}s`, `${p.result}${p.note ? ` (${p.note})` : ''}`])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  const verdict = rec.ok ? `${rec.dryRun ? 'Dry run finished' : 'Spec run succeeded'} in ${rec.seconds.toFixed(1)}s` : `Spec run FAILED after ${rec.seconds.toFixed(1)}s`;
  return [...lines, `${verdict}; record in ${join(rec.workspace, RUN_FILE)}`].join('\n');
}

/**
 * Runs the planned phases in order (or only `only`), each with a header and its result; the
 * first failure stops the run — nothing after it runs, and the workspace keeps what earlier
 * phases collected. The table of phases is printed and written as JSON into the workspace
 * whatever happens; a failure is then rethrown.
 */
export async function runSpec(r: RunContext, only?: number): Promise<RunRecord> {
  const started = Date.now();
  const rec: RunRecord = {
    spec: r.plan.root,
    stage: r.plan.stage,
    manifest: r.plan.manifest,
    project: r.project,
    model: r.model,
    workspace: r.ws.dir,
    started: new Date(started).toISOString(),
    seconds: 0,
    ok: true,
    dryRun: r.dryRun,
    ...(r.plan.stoppedAt !== undefined ? { stoppedAt: r.plan.stoppedAt } : {}),
    phases: r.plan.phases.filter((p) => only === undefined || p.n === only).map((p) => ({ n: p.n, phase: p.phase, at: p.at, result: 'not run', seconds: 0 })),
  };
  mkdirSync(r.ws.dir, { recursive: true });
  let failure: unknown;
  for (const p of r.plan.phases) {
    if (only !== undefined && p.n !== only) continue;
    const row = rec.phases.find((x) => x.n === p.n)!;
    r.ctx.info(`\n== Phase ${p.n}/${r.plan.phases.length}: ${p.phase}${p.file ? ` ${p.file.slice(r.plan.root.length + 1)}` : ''}  [${p.at}]`);
    const t0 = Date.now();
    try {
      const out = await runPhase(r, p);
      row.result = out.result;
      if (out.note !== undefined) row.note = out.note;
      row.seconds = (Date.now() - t0) / 1000;
      r.ctx.info(`-- ${p.phase}: ${out.result}${out.note ? ` (${out.note})` : ''} in ${row.seconds.toFixed(1)}s`);
    } catch (e) {
      row.seconds = (Date.now() - t0) / 1000;
      row.result = 'failed';
      row.error = isSigilError(e) ? e.message : String(e);
      rec.ok = false;
      failure = e;
      r.ctx.info(`-- ${p.phase}: FAILED in ${row.seconds.toFixed(1)}s`);
      break;
    }
  }
  if (r.plan.stoppedAt !== undefined && only === undefined && rec.ok) r.ctx.info(`\nstop-on at ${r.plan.stoppedAt}: stage "${r.plan.stage}" matches; the manifest ends here`);
  rec.seconds = (Date.now() - started) / 1000;
  writeFileSync(join(r.ws.dir, RUN_FILE), JSON.stringify(rec, null, 2) + '\n');
  r.ctx.info(`\n${renderRunTable(rec)}`);
  // The table above names the failed phase; the error itself is shown as any other.
  if (failure !== undefined) throw failure;
  return rec;
}

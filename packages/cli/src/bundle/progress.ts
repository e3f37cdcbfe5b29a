import type { ModelStatusDoc, UnitStatusDoc, WaitReport } from '@sigil/api';
import type { Client } from '../client.ts';

export interface SettleResult {
  report: WaitReport;
  seconds: number;
}

function units(doc: ModelStatusDoc): [string, UnitStatusDoc][] {
  return Object.values(doc.applications).flatMap((a) => Object.entries(a.units ?? {}).flatMap(([n, u]) => [[n, u] as [string, UnitStatusDoc], ...Object.entries(u.subordinates ?? {})]));
}

/**
 * How progress is shown: `live` redraws a block in place (a terminal); `changes` prints a
 * line when a unit's workload status or message changes; `verbose` also when its agent
 * starts or finishes a hook.
 */
export type ProgressMode = 'live' | 'changes' | 'verbose';

/** A unit's progress line: its workload status and message, and with `hooks` what its agent is running. */
export function progressLine(name: string, u: UnitStatusDoc, hooks: boolean): string {
  const agent = u['juju-status'];
  const work = u['workload-status'];
  const doing = hooks && agent.current === 'executing' ? ` (${agent.message ?? 'executing'})` : '';
  return `${name}: ${work.current}${work.message ? ` "${work.message}"` : ''}${doing}`;
}

/** Turns status snapshots into the lines to print: one per unit whose line changed since the last. */
export class ChangeLines {
  private readonly seen = new Map<string, string>();

  constructor(private readonly hooks: boolean) {}

  next(rows: [string, UnitStatusDoc][]): string[] {
    const out: string[] = [];
    for (const [n, u] of rows) {
      const l = progressLine(n, u, this.hooks);
      if (this.seen.get(n) !== l) out.push(l);
      this.seen.set(n, l);
    }
    return out;
  }
}

/**
 * Follows the change feed until the model settles (or errors, or times out), showing each
 * unit's progress as `mode` says. Returns the final wait report.
 */
export async function followUntilSettled(c: Client, apps: string[], timeoutMs: number, mode: ProgressMode, out: (s: string) => void): Promise<SettleResult> {
  const started = Date.now();
  const changes = new ChangeLines(mode === 'verbose');
  let drawn = 0;
  let report: WaitReport | undefined;
  const check = async (): Promise<boolean> => {
    const doc = await c.call('GET /api/models/:model/status');
    const rows = units(doc).filter(([n]) => apps.length === 0 || apps.includes(n.split('/')[0]!));
    if (mode === 'live') {
      if (drawn > 0) process.stderr.write(`\x1b[${drawn}A\x1b[J`);
      const text = rows.map(([n, u]) => `  ${progressLine(n, u, true)}`).join('\n');
      process.stderr.write(text + (text ? '\n' : ''));
      drawn = rows.length;
    } else {
      for (const l of changes.next(rows)) out(l);
    }
    report = await c.call('GET /api/models/:model/wait', { query: { apps: apps.join(',') } });
    return report.settled || report.errors.length > 0;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
  await Promise.race([c.watch(() => check()), timeout]);
  clearTimeout(timer);
  return { report: report ?? { settled: false, errors: [], busy: [], revision: 0 }, seconds: (Date.now() - started) / 1000 };
}

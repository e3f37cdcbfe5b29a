import type { ModelStatusDoc, UnitStatusDoc, WaitReport } from '@sigil/api';
import type { Client } from '../client.ts';

export interface SettleResult {
  report: WaitReport;
  seconds: number;
}

function units(doc: ModelStatusDoc): [string, UnitStatusDoc][] {
  return Object.values(doc.applications).flatMap((a) => Object.entries(a.units ?? {}).flatMap(([n, u]) => [[n, u] as [string, UnitStatusDoc], ...Object.entries(u.subordinates ?? {})]));
}

function line(name: string, u: UnitStatusDoc): string {
  const agent = u['juju-status'];
  const work = u['workload-status'];
  const doing = agent.current === 'executing' ? ` (${agent.message ?? 'executing'})` : '';
  return `${name}: ${work.current}${work.message ? ` "${work.message}"` : ''}${doing}`;
}

/**
 * Follows the change feed until the model settles (or errors, or times out), showing each
 * unit's progress: a live block redrawn in place on a terminal, plain lines when a unit
 * changes otherwise. Returns the final wait report.
 */
export async function followUntilSettled(c: Client, apps: string[], timeoutMs: number, live: boolean, out: (s: string) => void): Promise<SettleResult> {
  const started = Date.now();
  const seen = new Map<string, string>();
  let drawn = 0;
  let report: WaitReport | undefined;
  const check = async (): Promise<boolean> => {
    const doc = await c.get<ModelStatusDoc>(c.m('/status'));
    const rows = units(doc).filter(([n]) => apps.length === 0 || apps.includes(n.split('/')[0]!));
    if (live) {
      if (drawn > 0) process.stderr.write(`\x1b[${drawn}A\x1b[J`);
      const text = rows.map(([n, u]) => `  ${line(n, u)}`).join('\n');
      process.stderr.write(text + (text ? '\n' : ''));
      drawn = rows.length;
    } else {
      for (const [n, u] of rows) {
        const l = line(n, u);
        if (seen.get(n) !== l) out(l);
        seen.set(n, l);
      }
    }
    report = await c.get<WaitReport>(c.m(`/wait?apps=${encodeURIComponent(apps.join(','))}`));
    return report.settled || report.errors.length > 0;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
  await Promise.race([c.watch(() => check()), timeout]);
  clearTimeout(timer);
  return { report: report ?? { settled: false, errors: [], busy: [], revision: 0 }, seconds: (Date.now() - started) / 1000 };
}

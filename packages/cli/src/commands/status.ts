import type { Command } from 'commander';
import { allStatusMachines, type ModelStatusDoc, type ShowUnitDoc } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { formatOutput, renderList } from '../render/output.ts';
import { renderStatusTable } from '../render/status-table.ts';
import { buildTimeline, renderTimeline, timelineDoc, type TimelineUnit } from '../render/timeline.ts';
import type { Client } from '../client.ts';

/** Every unit of the model (subordinates on their principal's machine) with its machine. */
function timelineUnits(doc: ModelStatusDoc): TimelineUnit[] {
  const out: TimelineUnit[] = [];
  for (const app of Object.values(doc.applications ?? {})) {
    for (const [name, u] of Object.entries(app.units ?? {})) {
      out.push({ name, machine: u.machine });
      for (const sub of Object.keys(u.subordinates ?? {})) out.push({ name: sub, machine: u.machine });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

async function fetchTimeline(c: Client, doc: ModelStatusDoc) {
  const units = timelineUnits(doc);
  const history = (entity: string, type: string) => c.call('GET /api/models/:model/status-history', { query: { entity, type, n: '1000' } });
  const machines = [...new Set(units.map((u) => u.machine).filter((m): m is string => m !== undefined && m !== ''))];
  const machineHistory = new Map(await Promise.all(machines.map(async (m) => [m, await history(m, 'machine')] as const)));
  const unitHistory = new Map(await Promise.all(units.map(async (u) => [u.name, await history(u.name, 'unit')] as const)));
  return buildTimeline(units, machineHistory, unitHistory);
}

export function registerStatus(program: Command, ctx: Ctx): void {
  program
    .command('machines')
    .description('list machines with their hardware and constraints')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'tabular, yaml or json')
    .action(async (o: { model?: string; format?: string }) => {
      const c = ctx.client(o.model);
      const doc = await c.call('GET /api/models/:model/status');
      ctx.print({ machines: doc.machines }, o.format, () =>
        renderList(['Machine', 'State', 'Address', 'Inst id', 'Base', 'Hardware', 'Constraints'], allStatusMachines(doc).map(([id, m]) => [
          id, m['juju-status'].current, m['dns-name'] ?? '', m['instance-id'], `${m.base.name}@${m.base.channel}`, m.hardware ?? '', m.constraints ?? '',
        ]), { empty: `No machines in model "${c.model}".` }));
    });

  program
    .command('show-unit')
    .description("show a unit and the data in every relation bag it can see")
    .argument('<units...>')
    .option('-m, --model <model>', 'model')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action(async (units: string[], o: { model?: string; format: string }) => {
      const c = ctx.client(o.model);
      const docs: ShowUnitDoc = {};
      for (const u of units) Object.assign(docs, await c.call('GET /api/models/:model/unit', { query: { name: u } }));
      ctx.out(formatOutput(docs, o.format === 'json' ? 'json' : 'yaml'));
    });

  program
    .command('status')
    .description('show the model: applications, units, machines and relations')
    .option('-m, --model <model>', 'model to show')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .option('--relations, --integrations', 'include the relations section')
    .option('--color', 'force colours')
    .option('--no-color', 'disable colours')
    .option('--watch [interval]', 'redraw whenever the model changes (at most once per interval)')
    .option('--timeline', 'where the time went, per unit: machine creation, agent connected, each hook with its start and duration, settled (from the status history)')
    .action(async (o: { model?: string; format: string; relations?: boolean; integrations?: boolean; color?: boolean; watch?: string | boolean; timeline?: boolean }) => {
      const c = ctx.client(o.model);
      if (o.timeline) {
        if (o.watch !== undefined && o.watch !== false) throw new SigilError('bad-request', '--timeline and --watch do not go together', 'run `sigil status --timeline` once the deploy has settled, or while it runs');
        const t = await fetchTimeline(c, await c.call('GET /api/models/:model/status'));
        if (o.format === 'json' || o.format === 'yaml') ctx.out(formatOutput(timelineDoc(t), o.format).replace(/\n$/, ''));
        else ctx.out(renderTimeline(t).replace(/\n$/, ''));
        return;
      }
      const render = (doc: ModelStatusDoc) => {
        if (o.format === 'json' || o.format === 'yaml') {
          const { integrations: _i, revision: _r, ...juju } = doc;
          void _i;
          void _r;
          return formatOutput(juju, o.format);
        }
        ctx.print(doc, o.format, () => '');
        return renderStatusTable(doc, { color: o.color ?? ctx.tty, relations: o.relations === true || o.integrations === true });
      };
      if (o.watch === undefined || o.watch === false) {
        ctx.out(render(await c.call('GET /api/models/:model/status')));
        return;
      }
      // Redraw from the change feed: no polling; bursts coalesce into one redraw per interval.
      const minGap = typeof o.watch === 'string' ? parseDuration(o.watch) : 200;
      let last = 0;
      await c.watch(async () => {
        const wait = last + minGap - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = Date.now();
        const text = render(await c.call('GET /api/models/:model/status'));
        process.stdout.write((ctx.tty ? '\x1b[H\x1b[2J' : '\n') + text);
        return false;
      });
    });
}

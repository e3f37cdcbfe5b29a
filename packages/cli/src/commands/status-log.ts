import type { Command } from 'commander';
import { SigilError } from '@sigil/core';
import type { StatusHistoryEntry } from '@sigil/api';
import type { Ctx } from '../context.ts';
import { formatOutput } from '../render/output.ts';
import { cell, renderTable } from '../render/table.ts';
import { statusColour } from '../render/colour.ts';

const TYPES = ['juju-unit', 'machine', 'unit', 'workload'];

/** Juju's common.FormatTime: local `02 Jan 2006 15:04:05Z07:00`, or with --utc `2006-01-02 15:04:05Z`. */
export function formatHistoryTime(ms: number, utc: boolean, offsetMinutes = -new Date(ms).getTimezoneOffset()): string {
  if (utc) return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const local = new Date(ms + offsetMinutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][local.getUTCMonth()]!;
  const zone = offsetMinutes === 0 ? 'Z' : `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${pad(local.getUTCDate())} ${month} ${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${zone}`;
}

/** show-status-log's table: Time, Type, Status, Message, oldest first. */
export function renderStatusLog(entries: readonly StatusHistoryEntry[], opts: { utc: boolean; color: boolean; offsetMinutes?: number }): string {
  const rows = entries.map((e) => [formatHistoryTime(e.since, opts.utc, opts.offsetMinutes), e.type, cell(e.status, statusColour(e.status)), e.message]);
  return renderTable(['Time', 'Type', 'Status', 'Message'], rows, { color: opts.color });
}

/** The JSON/YAML shape of Juju's History: status, message, data (omitted when empty), since, type. */
export function statusLogDoc(entries: readonly StatusHistoryEntry[]): unknown[] {
  return entries.map((e) => ({
    ...(e.status !== '' ? { status: e.status } : {}),
    ...(e.message !== '' ? { message: e.message } : {}),
    ...(Object.keys(e.data).length > 0 ? { data: e.data } : {}),
    since: new Date(e.since).toISOString(),
    type: e.type,
  }));
}

export function registerStatusLog(program: Command, ctx: Ctx): void {
  program
    .command('show-status-log')
    .description('output past statuses for the specified entity (a unit, or a machine with --type machine)')
    .argument('<entity>')
    .option('-m, --model <model>', 'model')
    .option('--type <type>', `type of statuses to be displayed [${TYPES.join('|')}]`, 'unit')
    .option('-n <n>', 'returns the last N logs', '20')
    .option('--utc', 'display time as UTC in RFC3339 format')
    .option('--format <format>', 'tabular, yaml or json', 'tabular')
    .option('--color', 'force colours')
    .option('--no-color', 'disable colours')
    .action(async (entity: string, o: { model?: string; type: string; n: string; utc?: boolean; format: string; color?: boolean }) => {
      if (!TYPES.includes(o.type)) throw new SigilError('bad-request', `unexpected status type "${o.type}"`, `--type is one of ${TYPES.join(', ')}`);
      const n = Number(o.n);
      if (!Number.isInteger(n) || n < 1) throw new SigilError('bad-request', `invalid -n "${o.n}"`, 'give a whole number of entries, e.g. -n 30');
      if (!['tabular', 'yaml', 'json'].includes(o.format)) throw new SigilError('bad-request', `unknown format "${o.format}"`, 'use tabular, yaml or json');
      const c = ctx.client(o.model);
      const entries = await c.call('GET /api/models/:model/status-history', { query: { entity, type: o.type, n: String(n) } });
      if (entries.length === 0) throw new SigilError('not-found', 'no status history available', 'the entity has not reported a status yet');
      if (o.format === 'tabular') ctx.out(renderStatusLog(entries, { utc: o.utc === true, color: o.color ?? ctx.tty }).replace(/\n$/, ''));
      else ctx.out(formatOutput(statusLogDoc(entries), o.format === 'json' ? 'json' : 'yaml').replace(/\n$/, ''));
    });
}

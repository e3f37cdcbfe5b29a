import type { Command } from 'commander';
import { escapeControl } from '@sigil/core';
import type { Ctx } from '../context.ts';
import { collect } from '../context.ts';

interface LogRecord {
  entity: string;
  level: string;
  module: string;
  message: string;
  at: number;
}

export function registerDebugLog(program: Command, ctx: Ctx): void {
  program
    .command('debug-log')
    .description('show the model log: hook output, juju-log and agent messages')
    .option('-m, --model <model>', 'model')
    .option('-i, --include <entity>', 'only these units, applications or machines (repeatable)', collect, [])
    .option('-x, --exclude <entity>', 'leave these out (repeatable)', collect, [])
    .option('-l, --level <level>', 'minimum level: TRACE, DEBUG, INFO, WARNING, ERROR', 'DEBUG')
    .option('--replay', 'start from the beginning of the log')
    .option('-n, --lines <n>', 'lines of history to show first', '10')
    .option('--no-tail', 'stop after the history instead of following')
    .option('--format <format>', 'text or json', 'text')
    .action(async (o: { model?: string; include: string[]; exclude: string[]; level: string; replay?: boolean; lines: string; tail: boolean; format: string }) => {
      const c = ctx.client(o.model);
      const q = new URLSearchParams({ model: c.model, level: o.level, include: o.include.join(','), exclude: o.exclude.join(','), replay: String(o.replay === true), lines: o.lines, tail: String(o.tail) });
      await c.stream(`/api/logs?${q}`, (m) => {
        const r = m as LogRecord;
        if (o.format === 'json') ctx.out(JSON.stringify(r));
        // A message's own line breaks are kept but indented, so no line it prints can pass
        // for another entity's log line.
        else ctx.out(escapeControl(`${r.entity}: ${new Date(r.at).toISOString().slice(11, 19)} ${r.level} ${r.module} ${r.message}`, { newline: '\n    ' }));
      });
    });
}

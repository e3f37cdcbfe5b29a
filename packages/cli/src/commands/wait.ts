import type { Command } from 'commander';
import type { WaitReport } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Ctx } from '../context.ts';

export function registerWait(program: Command, ctx: Ctx): void {
  program
    .command('wait')
    .description("wait until the model (or the given applications) has settled: every agent idle, no error, no work queued; for the whole model, every machine's agent connected too")
    .argument('[applications...]')
    .option('-m, --model <model>', 'model')
    .option('--timeout <duration>', 'give up after this long', '10m')
    .action(async (apps: string[], o: { model?: string; timeout: string }) => {
      const c = ctx.client(o.model);
      const timeoutMs = parseDuration(o.timeout);
      const started = Date.now();
      let last: WaitReport | undefined;
      let lastLine = '';
      let lastPrinted = 0;
      const check = async (): Promise<boolean> => {
        last = await c.call('GET /api/models/:model/wait', { query: { apps: apps.join(',') } });
        if (last.errors.length > 0) return true;
        if (last.settled) return true;
        const line = `waiting: ${last.busy.slice(0, 5).map((b) => `${b.unit} (${b.reason})`).join(', ')}${last.busy.length > 5 ? `, and ${last.busy.length - 5} more` : ''}`;
        // Progress at most once a second: one rewritten line on a terminal, plain lines otherwise.
        if (line !== lastLine && Date.now() - lastPrinted >= 1000) {
          if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
          else ctx.info(line);
          lastLine = line;
          lastPrinted = Date.now();
        }
        return false;
      };
      // Driven by the change feed: every batch of changes triggers one re-check.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([c.watch(() => check()).then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout' || !last) {
        const busy = last?.busy.map((b) => `${b.unit}: ${b.reason}`).join('\n  ') ?? 'no answer from the controller';
        throw new SigilError('timeout', `timed out after ${o.timeout} waiting for the model to settle; still busy:\n  ${busy}`, 'see `sigil status` and `sigil debug-log`');
      }
      if (last.errors.length > 0) {
        const lines = last.errors.map((e) => `${e.unit}: ${e.message}${e.output.length ? '\n    ' + e.output.join('\n    ') : ''}`);
        throw new SigilError('conflict', `units in error:\n  ${lines.join('\n  ')}`, `fix the cause, then \`sigil resolve ${last.errors[0]!.unit}\`; details in \`sigil debug-log --include ${last.errors[0]!.unit}\``);
      }
      if (process.stderr.isTTY && lastLine !== '') process.stderr.write('\r\x1b[K');
      ctx.info(`settled in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    });
}

import type { Command } from 'commander';
import YAML from 'yaml';
import type { OperationDoc } from '@sigil/api';
import { SigilError, parseDuration } from '@sigil/core';
import type { Client } from '../client.ts';
import type { Ctx } from '../context.ts';
import { formatOutput } from '../render/output.ts';

/** Waits for operations to finish, driven by the change feed (no polling loop). */
async function waitFor(c: Client, ids: number[], timeoutMs: number): Promise<OperationDoc[]> {
  const results = new Map<number, OperationDoc>();
  const check = async () => {
    for (const id of ids) {
      if (results.has(id)) continue;
      const op = await c.call('GET /api/models/:model/operations/:id', { params: { id: String(id) } });
      if (op.status === 'completed' || op.status === 'failed') results.set(id, op);
    }
    return results.size === ids.length;
  };
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new SigilError('timeout', `timed out waiting for ${ids.length === 1 ? `task ${ids[0]}` : 'tasks ' + ids.join(', ')}`, 'the task keeps running; check it later with `sigil show-task <id>`')), timeoutMs).unref());
  await Promise.race([c.watch(() => check()), timer]);
  return ids.map((id) => results.get(id)!);
}

export function registerExec(program: Command, ctx: Ctx): void {
  program
    .command('exec')
    .description('run a command on units, in a hook context')
    .usage('[options] [--] <command...>')
    .argument('<command...>', 'the command and its arguments; everything from its first word on is passed as given')
    .option('-m, --model <model>', 'model')
    .option('-u, --unit <units>', 'comma-separated units')
    .option('-a, --application <apps>', 'comma-separated applications')
    .option('--all', 'every unit in the model')
    .option('--timeout <duration>', 'how long to wait', '5m')
    .option('--format <format>', 'yaml or json (default: plain output for one unit)')
    // `sigil exec --unit u/0 ls -la`: options after the command's first word are the command's.
    .passThroughOptions()
    .action(async (words: string[], o: { model?: string; unit?: string; application?: string; all?: boolean; timeout: string; format?: string }) => {
      const c = ctx.client(o.model);
      let units = o.unit ? o.unit.split(',') : [];
      if (o.application || o.all) {
        const st = await c.call('GET /api/models/:model/status');
        const apps = o.all ? Object.keys(st.applications) : o.application!.split(',');
        for (const a of apps) {
          const app = st.applications[a];
          if (!app) throw new SigilError('not-found', `application "${a}" not found`, 'see `sigil status`');
          units.push(...Object.keys(app.units ?? {}));
        }
      }
      units = [...new Set(units)];
      if (units.length === 0) {
        // Options after the command's first word are the command's (see passThroughOptions).
        const late = words.map((w) => w.split('=')[0]!).find((w) => /^(-u|--unit|-a|--application|--all)$/.test(w));
        throw new SigilError('bad-request', 'no target: give --unit, --application or --all', late
          ? `"${late}" came after the command, so it was passed to the command; put sigil's options first, e.g. \`sigil exec ${late === '--all' ? '--all' : `${late} <target>`} -- ${words[0] ?? 'hostname'}\``
          : 'e.g. `sigil exec --unit sink/0 -- hostname`');
      }
      const timeout = parseDuration(o.timeout);
      const ops = await c.call('POST /api/models/:model/exec', { body: { units, command: words.join(' '), timeoutMs: timeout } });
      const done = await waitFor(c, ops.map((x) => x.id), timeout + 10_000);
      if (done.length === 1 && o.format === undefined) {
        const r = done[0]!.results;
        if (typeof r.stdout === 'string') process.stdout.write(r.stdout);
        if (typeof r.stderr === 'string') process.stderr.write(r.stderr);
        process.exitCode = Number(r['return-code'] ?? 0);
        return;
      }
      const doc = Object.fromEntries(done.map((op) => [op.unit, { id: String(op.id), results: op.results, status: op.status, unit: op.unit }]));
      ctx.out(formatOutput(doc, o.format === 'json' ? 'json' : 'yaml'));
      if (done.some((op) => Number(op.results['return-code'] ?? 0) !== 0)) process.exitCode = 1;
    });

  program
    .command('run')
    .description('run an action on a unit and print its results')
    .argument('<unit>', 'unit, or app/leader')
    .argument('<action>')
    .argument('[params...]', 'key=value (values parsed as YAML)')
    .option('-m, --model <model>', 'model')
    .option('--string-args', 'do not parse values as YAML')
    .option('--background', 'queue the action and return its id')
    .option('--wait <duration>', 'how long to wait', '5m')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action(async (unit: string, action: string, params: string[], o: { model?: string; stringArgs?: boolean; background?: boolean; wait: string; format: string }) => {
      const c = ctx.client(o.model);
      const p: Record<string, unknown> = {};
      for (const kv of params) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new SigilError('bad-request', `argument "${kv}" must be key=value`, 'e.g. `sigil run source/0 echo value=hi`');
        setPath(p, kv.slice(0, eq), o.stringArgs ? kv.slice(eq + 1) : YAML.parse(kv.slice(eq + 1)) ?? '');
      }
      const op = await c.call('POST /api/models/:model/actions', { body: { unit, name: action, params: p } });
      ctx.info(`Running operation ${op.id} with 1 task\n  - task ${op.id} on unit-${op.unit.replace('/', '-')}\n`);
      if (o.background) {
        ctx.out(`Scheduled operation ${op.id}`);
        return;
      }
      ctx.info(`Waiting for task ${op.id}...`);
      const [done] = await waitFor(c, [op.id], parseDuration(o.wait));
      const { stdout, stderr, 'return-code': code, ...results } = done!.results;
      if (Object.keys(results).length > 0) ctx.out(formatOutput(results, o.format === 'json' ? 'json' : 'yaml'));
      if (typeof stdout === 'string' && stdout !== '') process.stdout.write(stdout);
      if (typeof stderr === 'string' && stderr !== '') process.stderr.write(stderr);
      if (done!.status !== 'completed') {
        throw new SigilError('internal', `task ${op.id} failed: ${done!.message || `exit status ${String(code)}`}`, `see \`sigil debug-log --include ${done!.unit}\``);
      }
    });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const k of parts.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[parts[parts.length - 1]!] = value;
}

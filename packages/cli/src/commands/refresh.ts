import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import type { ModelStatusDoc, RolloutDoc, StartRolloutRequest } from '@sigil/api';
import { SigilError, checkGateCommand, checkGateUrl, formatDuration, parseBatchSpec, parseDuration } from '@sigil/core';
import type { Ctx } from '../context.ts';
import type { Client } from '../client.ts';

interface RefreshOpts {
  path?: string;
  model?: string;
  batch?: string;
  gate?: string;
  gateHttp?: string;
  pauseBetween?: string;
  haltOnError?: boolean;
  batchTimeout: string;
  resume?: boolean;
  rollback?: boolean;
  wait: boolean;
}

/**
 * `sigil refresh APP --path DIR`: Juju's refresh (every unit at once); with --batch, a gate,
 * a pause or --halt-on-error, a rolling refresh the controller runs batch by batch (issue
 * 18). The command starts the roll-out and follows it; interrupting it leaves the roll-out
 * running. --resume and --rollback continue or undo a halted one.
 */
export function registerRefresh(program: Command, ctx: Ctx): void {
  program
    .command('refresh')
    .alias('upgrade-charm')
    .description("upgrade an application's charm from a local directory, at once or in batches with health gates")
    .argument('<application>')
    .option('--path <dir>', 'the new charm directory')
    .option('-m, --model <model>', 'model')
    .option('--batch <n|p%>', 'roll out N units (or P% of them) at a time, leader last')
    .option('--gate <command>', 'after each batch, run this shell command on its units; a non-zero exit halts the roll-out (needs admin)')
    .option('--gate-http <url>', 'after each batch, fetch this URL ({address} is each unit\'s address); an answer other than 2xx/3xx halts')
    .option('--pause-between <duration>', 'wait this long between batches', '0s')
    .option('--halt-on-error', 'halt when a unit goes into error (else wait for `sigil resolve`)')
    .option('--batch-timeout <duration>', 'halt when a batch has not settled within this long', '10m')
    .option('--resume', 'continue a halted roll-out')
    .option('--rollback', 'undo a running or halted roll-out: moved units go back to the old charm')
    .option('--no-wait', 'start or change the roll-out and return without following it')
    .action(async (app: string, o: RefreshOpts) => {
      const c = ctx.client(o.model);
      if (o.resume && o.rollback) throw new SigilError('bad-request', '--resume and --rollback contradict each other', 'pick one');
      if (o.resume || o.rollback) {
        if (o.path !== undefined) throw new SigilError('bad-request', `--path cannot be used with --${o.resume ? 'resume' : 'rollback'}`, `the roll-out keeps its charm: \`sigil refresh ${app} --${o.resume ? 'resume' : 'rollback'}\``);
        const doc = o.resume
          ? await c.call('POST /api/models/:model/applications/:app/rollout/resume', { params: { app } })
          : await c.call('POST /api/models/:model/applications/:app/rollout/rollback', { params: { app } });
        ctx.info(o.resume ? `Resuming the roll-out of "${app}" at batch ${doc.batch + 1}/${doc.batches.length}` : `Rolling "${app}" back: ${doc.batches.flat().join(', ') || 'nothing had moved'}`);
        if (o.wait) await follow(ctx, c, app, doc);
        return;
      }
      if (o.path === undefined) throw new SigilError('bad-request', 'refresh needs --path DIR (or --resume / --rollback)', `\`sigil refresh ${app} --path ./my-charm\``);
      const rolling = o.batch !== undefined || o.gate !== undefined || o.gateHttp !== undefined || o.haltOnError === true || o.pauseBetween !== '0s';
      // Everything that can be checked here is, before the charm is uploaded.
      const req: Omit<StartRolloutRequest, 'charmUrl'> = {
        batch: o.batch ?? '100%',
        gate: {},
        pauseMs: parseDuration(o.pauseBetween ?? '0s'),
        haltOnError: o.haltOnError === true,
        batchTimeoutMs: parseDuration(o.batchTimeout),
      };
      parseBatchSpec(req.batch);
      if (o.gate !== undefined) {
        checkGateCommand(o.gate);
        checkShell(o.gate);
        req.gate.command = o.gate;
      }
      if (o.gateHttp !== undefined) {
        checkGateUrl(o.gateHttp);
        req.gate.http = o.gateHttp;
      }
      const { readCharmDir } = await import('../charm-dir.ts');
      const { charm, archive } = readCharmDir(o.path);
      checkEndpoints(app, charm.meta, await c.call('GET /api/models/:model/status'));
      const uploaded = await c.call('POST /api/models/:model/charms', { body: archive });
      ctx.out(`Added local charm "${charm.meta.name}", revision ${uploaded.revision}, to the model`);
      if (!rolling) {
        await c.call('POST /api/models/:model/applications/:app/refresh', { params: { app }, body: { charmUrl: uploaded.url } });
        ctx.out(`Upgrading "${app}"`);
        return;
      }
      const doc = await c.call('POST /api/models/:model/applications/:app/rollout', { params: { app }, body: { ...req, charmUrl: uploaded.url } });
      ctx.out(`Rolling "${app}" out to revision ${uploaded.revision} in ${doc.batches.length} batch${doc.batches.length === 1 ? '' : 'es'}: ${doc.batches.map((b) => b.join(' ')).join(' | ')}`);
      if (o.wait) await follow(ctx, c, app, doc);
      else ctx.info(`The controller runs it; follow it with \`sigil status\` or \`sigil refresh ${app} --resume\` if it halts`);
    });
}

/** Prints each unit's moves until the roll-out ends; a halt is an error naming the way on. */
async function follow(ctx: Ctx, c: Client, app: string, first: RolloutDoc): Promise<void> {
  const seen = new Map<string, string>();
  let lastMessage = '';
  let doc = first;
  const started = Date.now();
  ctx.info('(interrupting this leaves the roll-out running in the controller)');
  for (;;) {
    for (const [u, state] of Object.entries(doc.units)) {
      if (seen.get(u) !== state) {
        seen.set(u, state);
        if (state !== 'pending') ctx.info(`${formatDuration(Date.now() - started).padStart(6)}  ${u}: ${state}`);
      }
    }
    if (doc.message && doc.message !== lastMessage && doc.status === 'running') ctx.info(`${formatDuration(Date.now() - started).padStart(6)}  ${doc.message}`);
    lastMessage = doc.message;
    if (doc.status === 'done') {
      ctx.out(`Roll-out of "${app}" done in ${formatDuration(Date.now() - first.started)} (batches: ${doc.batchMs.map(formatDuration).join(', ')})`);
      return;
    }
    if (doc.status === 'rolled-back') {
      ctx.out(`Roll-out of "${app}" rolled back: every unit runs its old charm again`);
      return;
    }
    if (doc.status === 'halted') {
      throw new SigilError('conflict', `roll-out of "${app}" halted at batch ${doc.batch + 1}/${doc.batches.length}: ${doc.message}`,
        `fix the cause, then \`sigil refresh ${app} --resume\`; or undo it with \`sigil refresh ${app} --rollback\` (units not reached still run the old charm)`);
    }
    await new Promise((r) => setTimeout(r, 500));
    doc = await c.call('GET /api/models/:model/applications/:app/rollout', { params: { app } });
  }
}

function checkShell(command: string): void {
  const r = spawnSync('bash', ['-n'], { input: command, encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status === 0) return;
  const why = r.stderr.trim().split('\n').map((l) => l.replace(/^bash: line \d+: /, '')).join('; ').slice(0, 300);
  throw new SigilError('bad-request', `the gate command is not valid shell: ${why}`, "quote it whole for your shell, e.g. --gate 'curl -fsS http://localhost/ | grep -q ok'");
}

/** Refuses a charm that drops an endpoint the application uses (the controller checks again). */
function checkEndpoints(app: string, meta: { name: string; provides: Record<string, unknown>; requires: Record<string, unknown>; peers: Record<string, unknown> }, status: ModelStatusDoc): void {
  const doc = status.applications[app];
  if (!doc) throw new SigilError('not-found', `application "${app}" not found`, 'see `sigil status` for the applications of this model');
  // Another charm altogether: the controller's answer names it better than an endpoint would.
  if (doc['charm-name'] !== meta.name) return;
  const declared = new Set([...Object.keys(meta.provides), ...Object.keys(meta.requires), ...Object.keys(meta.peers), 'juju-info']);
  const lost = Object.entries(doc.relations ?? {}).filter(([ep, rels]) => !declared.has(ep) && rels.some((r) => r['related-application'] !== app));
  if (lost.length === 0) return;
  const [ep, rels] = lost[0]!;
  throw new SigilError('conflict', `the new charm drops endpoint ${lost.map(([e]) => `"${e}"`).join(', ')} of "${app}", in use by relations to ${[...new Set(lost.flatMap(([, r]) => r.map((x) => x['related-application'])))].join(', ')}`,
    `remove those relations first (\`sigil remove-relation ${app}:${ep} ${rels[0]!['related-application']}\`), or keep the endpoint in the new charm's metadata.yaml`);
}

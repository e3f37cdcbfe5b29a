import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { routes } from './contract.ts';

/**
 * Rolling refresh (issue 18): start, show, resume and roll back an application's roll-out;
 * the rollout worker does the work. Who may call: the contract (`write`), and a command gate
 * runs as root on the units like `sigil exec`, so starting or resuming one needs `admin`.
 */
export function registerRolloutRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;
  const commandGateNeedsAdmin = (req: { principal: { kind: string; role?: string; name?: string } }, command: string | undefined) => {
    if (command === undefined) return;
    if (req.principal.kind === 'user' && req.principal.role === 'admin') return;
    throw new SigilError('forbidden', 'a --gate command runs as root on the units, as `sigil exec` does: it needs admin access to the model', 'use --gate-http URL instead, or ask a model admin');
  };

  on('POST /api/models/:model/applications/:app/rollout', async (req) => {
    const m = model(req.params.model);
    commandGateNeedsAdmin(req, req.body.gate.command);
    if (req.body.gate.command !== undefined) checkShellSyntax(req.body.gate.command);
    const gate = { ...(req.body.gate.command !== undefined ? { command: req.body.gate.command } : {}), ...(req.body.gate.http !== undefined ? { http: req.body.gate.http } : {}) };
    const by = req.principal.kind === 'user' ? req.principal.name : 'machine';
    const doc = svc.rollouts.start(m, req.params.app, { ...req.body, gate }, by);
    svc.notifyRollout({ event: 'refresh-started', model: m, application: doc.app, from: doc.from, to: doc.to, by, message: `${doc.batches.length} batches`, at: Date.now() });
    svc.wake();
    return doc;
  });
  on('GET /api/models/:model/applications/:app/rollout', async (req) => svc.rollouts.get(model(req.params.model), req.params.app));
  on('POST /api/models/:model/applications/:app/rollout/resume', async (req) => {
    const m = model(req.params.model);
    commandGateNeedsAdmin(req, svc.rollouts.get(m, req.params.app).gate.command);
    const doc = svc.rollouts.resume(m, req.params.app);
    svc.wake();
    return doc;
  });
  on('POST /api/models/:model/applications/:app/rollout/rollback', async (req) => {
    const doc = svc.rollouts.rollback(model(req.params.model), req.params.app);
    svc.wake();
    return doc;
  });
}

/** `bash -n`: parses the gate command without running it, so a typo fails before anything moves. */
function checkShellSyntax(command: string): void {
  const r = spawnSync('bash', ['-n'], { input: command, encoding: 'utf8', timeout: 5000 });
  if (r.error) return; // no bash here: the units' shell will report it
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').map((l) => l.replace(/^bash: line \d+: /, '')).join('; ').slice(0, 300);
    throw new SigilError('bad-request', `the gate command is not valid shell: ${why}`, "quote it whole for your shell, e.g. --gate 'curl -fsS http://localhost/ | grep -q ok'");
  }
}

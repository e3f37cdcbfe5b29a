import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ScheduleView } from '@sigil/api';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { checkTarget } from '../state/notifications.ts';
import type { Schedule } from '../state/schedules.ts';
import { routes } from './contract.ts';

/** What `schedule list` shows of a schedule. */
export function scheduleView(s: Schedule): ScheduleView {
  return {
    name: s.name,
    unit: s.unit,
    action: s.action,
    params: s.params,
    every: s.every,
    keep: s.keep,
    'next-run': new Date(s.nextRun).toISOString(),
    running: s.running,
    'last-run': s.lastRun === null ? null : new Date(s.lastRun).toISOString(),
    'last-status': s.lastStatus,
    'last-message': s.lastMessage,
    'last-snapshot': s.lastSnapshot,
  };
}

function who(req: FastifyRequest): string {
  return req.principal.kind === 'user' ? req.principal.name : 'a machine';
}

/**
 * Day-2 operations (issue 18): scheduled actions, the backup store and unit restores, and
 * notification targets. Access: the contract. Passwords and webhook secrets arrive in the
 * body (from a file or the environment on the CLI side), are checked, stored sealed or in a
 * 0600 file, and are never echoed back.
 */
export function registerOpsRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;
  /** A second model a route reads from: a user needs some access to it (a superuser has all). */
  const mayRead = (req: FastifyRequest, name: string) => {
    const p = req.principal;
    if (p.kind !== 'user' || p.superuser) return;
    if (svc.users.roleOn(svc.users.mustGet(p.name), name) === undefined) {
      throw new SigilError('forbidden', `user "${p.name}" has no access to model "${name}", whose snapshot this restores`, `ask a model admin to grant it: \`sigil grant ${p.name} read ${name}\``);
    }
  };
  const runner = () => {
    if (!svc.unitBackups) throw new SigilError('unavailable', 'this controller does not run schedules', 'restart the controller with a build that has `sigil schedule`');
    return svc.unitBackups;
  };

  on('GET /api/models/:model/schedules', async (req) => ({ schedules: svc.schedules.list(model(req.params.model)).map(scheduleView) }));

  on('POST /api/models/:model/schedules', async (req) => {
    const b = req.body;
    const s = svc.schedules.add(model(req.params.model), { name: b.name, unit: b.unit, action: b.action, params: b.params ?? {}, every: b.every, keep: b.keep ?? 14 }, who(req));
    svc.log.info('schedule added', { model: s.model, schedule: s.name, unit: s.unit, action: s.action, every: s.every });
    return scheduleView(s);
  });

  on('DELETE /api/models/:model/schedules/:name', async (req) => {
    svc.schedules.remove(model(req.params.model), req.params.name);
    return { removed: req.params.name };
  });

  /** Runs a schedule now, through the same path as a due run, and answers with its outcome. */
  on('POST /api/models/:model/schedules/:name/run', async (req) => {
    const m = model(req.params.model);
    const s = svc.schedules.mustGet(m, req.params.name);
    const r = runner();
    svc.schedules.runNow(m, s.name);
    const started = r.runDue().length;
    if (started === 0) throw new SigilError('conflict', `schedule "${s.name}" did not start`, 'it may be running already; see `sigil schedule list`');
    for (;;) {
      const now = svc.schedules.mustGet(m, s.name);
      if (!now.running) return scheduleView(now);
      await new Promise((res) => setTimeout(res, 200));
    }
  });

  on('GET /api/models/:model/snapshots', async (req) => ({ store: svc.backupStore.config() ?? null, snapshots: svc.backupStore.list(model(req.params.model)) }));

  on('POST /api/models/:model/restore-unit', async (req) => {
    const m = model(req.params.model);
    // A snapshot of another model (a failover drill restores the source's data into the
    // rebuilt model): the caller must be able to read that model too.
    const from = req.body.fromModel === undefined ? m : model(req.body.fromModel);
    if (from !== m) mayRead(req, from);
    const out = await runner().restoreUnit(m, req.body.unit, req.body.snapshot, req.body.action ?? 'restore', from);
    svc.log.info('unit restored', { model: m, unit: out.unit, snapshot: out.snapshot, from, status: out.operation.status, by: who(req) });
    return out;
  });

  on('GET /api/backup-store', async () => ({ store: svc.backupStore.config() ?? null }));

  on('POST /api/backup-store', async (req) => {
    const c = await svc.backupStore.configure(req.body.kind, req.body.location, req.body.password);
    svc.log.info('backup store configured', { kind: c.kind, location: c.location });
    return { store: c };
  });

  on('GET /api/notify', async () => ({ targets: svc.notifications.list() }));

  /**
   * Adds a target after one test delivery: a webhook that does not answer 2xx, or an XMPP
   * account that cannot join the room, is refused and nothing is stored.
   */
  on('POST /api/notify', async (req) => {
    const t = checkTarget({ ...req.body, room: req.body.room ?? '', server: req.body.server ?? '' });
    if (svc.notifications.target(t.name)) throw new SigilError('already-exists', `notification "${t.name}" already exists`, `remove it first: sigil notify remove ${t.name}`);
    if (t.kind === 'xmpp' && !req.body.secret) throw new SigilError('bad-request', 'an XMPP account needs its password', 'give --password-file FILE');
    const text = `[sigil ${svc.controllerName}] notifications "${t.name}" added by ${who(req)}`;
    const body = JSON.stringify({ event: 'notify-test', controller: svc.controllerName, subject: t.name, outcome: 'ok', detail: 'test delivery', by: who(req), at: new Date().toISOString(), text });
    try {
      await svc.notifyWorker.deliver({ target: t.name, event: 'notify-test', body }, t, req.body.secret);
    } catch (e) {
      const reason = (e as Error).message;
      throw new SigilError('unavailable', `the test ${t.kind === 'webhook' ? `POST to ${t.address}` : `message to ${t.room} as ${t.address}`} failed: ${reason}`, t.kind === 'webhook' ? 'check the URL and that the receiver answers 2xx; nothing was added' : 'check the account, its password, the room and the server (--xmpp-server host:port); nothing was added');
    }
    svc.notifications.add(t, req.body.secret);
    svc.log.info('notification target added', { name: t.name, kind: t.kind, events: t.events.join(',') });
    return { added: t.name, events: t.events };
  });

  on('DELETE /api/notify/:name', async (req) => {
    svc.notifications.remove(req.params.name);
    return { removed: req.params.name };
  });
}

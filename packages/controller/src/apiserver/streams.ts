import type { WebSocket } from 'ws';
import { concerns, type WatchMessage } from '@sigil/api';
import type { Services } from '../services.ts';
import type { Principal } from './auth.ts';
import type { LogRecord } from './loghub.ts';
import { StatusHistoryRepository } from '../state/status-history.ts';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR'];

/** Agents coming and going within this long make one presence message. */
const PRESENCE_COALESCE_MS = 50;

/**
 * The change feed: the watcher says where it is (`since`), gets what it missed, then live
 * changes. A watcher behind the compacted log is told to resync from a snapshot.
 * A machine agent's watch is also its presence: while it is open the machine is up.
 */
export function handleWatch(ws: WebSocket, url: URL, principal: Principal, svc: Services): void {
  const model = principal.kind === 'machine' ? principal.machine.model : url.searchParams.get('model') ?? undefined;
  let sentRev = -1;
  const send = (m: WatchMessage) => {
    sentRev = m.rev;
    return ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));
  };
  const since = Number(url.searchParams.get('since') ?? '-1');
  const first = principal.kind === 'machine' && !svc.presence.connected(principal.machine.model, principal.machine.id);
  const leave = principal.kind === 'machine' ? svc.presence.add(principal.machine.model, principal.machine.id) : undefined;
  if (leave) svc.wake(principal.kind === 'machine' ? principal.machine : undefined);
  if (first && principal.kind === 'machine') {
    const { model: m, id } = principal.machine;
    try {
      new StatusHistoryRepository(svc.store).append(m, id, 'machine', 'started', 'agent connected', Date.now());
    } catch {
      // History is for people; an agent's connection never fails for it (a busy database).
    }
  }
  if (since >= 0 && since < svc.store.oldestRevision() - 1) {
    send({ rev: svc.store.revision(), resync: true });
  } else if (since >= 0) {
    const missed = svc.store.changesSince(since).filter((c) => model === undefined || c.model === model);
    send({ rev: svc.store.revision(), changes: missed });
  } else {
    send({ rev: svc.store.revision() });
  }
  // A machine agent gets only the changes that concern the view it was last served (by the
  // rule it applies itself); before its first view, everything in its model.
  const agent = principal.kind === 'machine' ? principal.machine : undefined;
  const unsubscribe = svc.store.subscribe((rev, changes) => {
    const interest = agent && svc.agent.interestOf(agent.model, agent.id);
    const mine = changes.filter((c) => (model === undefined || c.model === model) && (!interest || concerns(c.kind, c.key, interest, c.op)));
    if (mine.length > 0) send({ rev, changes: mine });
  });
  // People's watchers also hear when a machine's agent comes or goes, which is not in the
  // change log (`sigil wait` waits for machines' agents): one message for a burst of them.
  let presenceTimer: NodeJS.Timeout | undefined;
  const unpresence = agent ? undefined : svc.presence.onChange(() => {
    presenceTimer ??= setTimeout(() => {
      presenceTimer = undefined;
      send({ rev: sentRev, presence: true });
    }, PRESENCE_COALESCE_MS);
  });
  // Machine agents hear when the replica set changes, to learn the new addresses.
  const uncontrollers = agent ? svc.onControllersChange(() => send({ rev: sentRev, controllers: true })) : undefined;
  // A peer that stops answering pings (a killed machine sends no FIN) is dropped within
  // 10 s, which is what turns its machine "down" and its units "lost".
  let answered = true;
  ws.on('pong', () => (answered = true));
  const ping = setInterval(() => {
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
  }, 5000);
  ws.on('close', () => {
    clearInterval(ping);
    clearTimeout(presenceTimer);
    unpresence?.();
    uncontrollers?.();
    unsubscribe();
    if (leave) {
      leave();
      svc.wake(principal.kind === 'machine' ? principal.machine : undefined);
    }
  });
  ws.on('error', () => ws.terminate());
}

/** `debug-log`: the last lines (or all with replay), then live lines, filtered as Juju's flags say. */
export function handleLogStream(ws: WebSocket, url: URL, svc: Services): void {
  const q = url.searchParams;
  const model = q.get('model') ?? 'default';
  const minLevel = Math.max(0, LEVELS.indexOf((q.get('level') ?? 'TRACE').toUpperCase()));
  const include = (q.get('include') ?? '').split(',').filter(Boolean);
  const exclude = (q.get('exclude') ?? '').split(',').filter(Boolean);
  const matches = (entity: string, pattern: string) => {
    const unit = entity.startsWith('unit-') ? entity : '';
    const asUnit = pattern.includes('/') ? 'unit-' + pattern.replace('/', '-') : pattern;
    return entity === asUnit || entity === pattern || (unit !== '' && !pattern.includes('/') && unit.replace(/^unit-/, '').replace(/-\d+$/, '') === pattern);
  };
  const wanted = (r: LogRecord) =>
    r.model === model &&
    LEVELS.indexOf(r.level) >= minLevel &&
    (include.length === 0 || include.some((p) => matches(r.entity, p))) &&
    !exclude.some((p) => matches(r.entity, p));
  const send = (r: LogRecord) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(r));
  // History: everything (`replay`), everything after a line the client already has
  // (`after`, to resume), or the last `lines`; read through the index a page at a time.
  const after = Number(q.get('after') ?? '-1');
  const lines = Math.max(0, Math.min(Number(q.get('lines') ?? '10') || 0, 100_000));
  if (q.get('replay') === 'true' || after >= 0) {
    for (const r of svc.logRecords.forward(model, Math.max(after, 0))) if (wanted(r)) send(r);
  } else {
    for (const r of svc.logRecords.last(model, lines, wanted)) send(r);
  }
  if (q.get('tail') === 'false') {
    ws.close(1000, 'done');
    return;
  }
  const unsubscribe = svc.logs.subscribe((r) => {
    if (wanted(r)) send(r);
  });
  ws.on('close', unsubscribe);
  ws.on('error', () => ws.terminate());
}

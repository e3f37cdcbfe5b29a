/**
 * `sigil status` as Juju 3.x prints it (cmd/juju/status/output_tabular.go, reference
 * §5.2): sections Model, App, Unit, Machine and, on request, Integration, separated by a
 * blank line, empty sections left out, rows in natural order. It renders what the server
 * put in the document and derives only presentation: Scale, the hook prefix on messages,
 * Base and AZ.
 */
import type { ApplicationStatusDoc, MachineStatusDoc, ModelStatusDoc, RelationRow, UnitStatusDoc } from '@sigil/api';
import { escapeControl, naturalCompare, unitApp } from '@sigil/core';
import { relationStatusColour, statusColour } from './colour.ts';
import { type CellValue, cell, renderTable } from './table.ts';

export interface StatusTableOptions {
  color: boolean;
  relations: boolean;
  /** Clock for the Timestamp column when the document carries none. */
  now?: Date;
}

const MAX_VERSION_WIDTH = 15;
const MAX_MESSAGE_LENGTH = 120;
const ELLIPSIS = '...';

// The counts Juju treats as "up" for Scale (formatter.go applicationScale).
const AVAILABLE_AGENT = new Set(['idle', 'executing', 'running']);

export function renderStatusTable(doc: ModelStatusDoc, opts: StatusTableOptions): string {
  const sections = [
    modelSection(doc, opts),
    saasSection(doc, opts.color),
    appSection(doc, opts.color),
    rolloutSection(doc, opts.color),
    unitSection(doc, opts.color),
    machineSection(doc, opts.color),
    offerSection(doc),
    opts.relations ? integrationSection(doc.integrations ?? [], opts.color) : '',
  ];
  return sections.filter((s) => s !== '').join('\n');
}

function modelSection(doc: ModelStatusDoc, opts: StatusTableOptions): string {
  const m = doc.model;
  const headers = ['Model', 'Controller', 'Cloud/Region', 'Version'];
  const row: string[] = [m.name, m.controller, m.region ? `${m.cloud}/${m.region}` : m.cloud, m.version];
  if (m.sla !== '') {
    headers.push('SLA');
    row.push(m.sla);
  }
  const timestamp = doc.controller.timestamp || (opts.now ? clockTime(opts.now) : '');
  if (timestamp !== '') {
    headers.push('Timestamp');
    row.push(timestamp);
  }
  const notes = m['model-status'].message ?? '';
  if (notes !== '') {
    headers.push('Notes');
    row.push(truncate(notes, MAX_MESSAGE_LENGTH));
  }
  return renderTable(headers, [row]);
}

/** Juju's SAAS section: the offers this model consumed (Store is `local` on this controller). */
function saasSection(doc: ModelStatusDoc, color: boolean): string {
  const names = sortedKeys(doc['application-endpoints'] ?? {});
  if (names.length === 0) return '';
  return renderTable(['SAAS', 'Status', 'Store', 'URL'], names.map((n): CellValue[] => {
    const r = doc['application-endpoints'][n]!;
    const st = r['application-status'].current;
    return [n, cell(st, statusColour(st)), 'local', r.url];
  }), { color });
}

/** Juju's Offer section: one row per offered endpoint, Connected as active/total. */
function offerSection(doc: ModelStatusDoc): string {
  const names = sortedKeys(doc.offers ?? {});
  if (names.length === 0) return '';
  const rows: CellValue[][] = [];
  for (const n of names) {
    const o = doc.offers[n]!;
    const app = doc.applications[o.application];
    Object.entries(o.endpoints).forEach(([ep, e], i) => {
      const first = i === 0;
      rows.push([first ? n : '', first ? o.application : '', first ? app?.['charm-name'] ?? '' : '', first ? String(app?.['charm-rev'] ?? '') : '',
        first ? `${o['active-connected-count'] ?? 0}/${o['total-connected-count'] ?? 0}` : '', ep, e.interface, e.role]);
    });
  }
  return renderTable(['Offer', 'Application', 'Charm', 'Rev', 'Connected', 'Endpoint', 'Interface', 'Role'], rows);
}

function appSection(doc: ModelStatusDoc, color: boolean): string {
  const names = sortedKeys(doc.applications);
  if (names.length === 0) return '';
  const rows = names.map((name): CellValue[] => {
    const app = doc.applications[name]!;
    const status = app['application-status'];
    const scale = applicationScale(doc, name, app);
    return [
      name,
      truncate((app.version ?? '').split('\n')[0] ?? '', MAX_VERSION_WIDTH),
      cell(status.current, statusColour(status.current)),
      scale.warn ? cell(scale.text, 'yellow') : scale.text,
      app['charm-name'],
      charmChannel(app),
      String(app['charm-rev']),
      app.exposed ? cell('yes', 'green') : 'no',
      truncate(status.message ?? '', MAX_MESSAGE_LENGTH),
    ];
  });
  const headers = ['App', 'Version', 'Status', 'Scale', 'Charm', 'Channel', 'Rev', 'Exposed', 'Message'];
  return renderTable(headers, rows, { color, alignRight: [3, 6] });
}

/**
 * `n` when every unit is up, else `current/desired` (shown in yellow). A unit is up when
 * its agent is idle, executing or running and its workload is not terminated. A
 * subordinate's units are the ones hosted under its principals' units.
 */
function applicationScale(doc: ModelStatusDoc, name: string, app: ApplicationStatusDoc): { text: string; warn: boolean } {
  const subordinate = (app['subordinate-to'] ?? []).length > 0;
  const units = subordinate ? subordinateUnitsOf(doc, name) : Object.values(app.units ?? {});
  const current = units.filter(
    (u) => AVAILABLE_AGENT.has(u['juju-status'].current) && u['workload-status'].current !== 'terminated',
  ).length;
  const desired = !subordinate && app.scale !== undefined ? app.scale : units.length;
  return current === desired ? { text: String(current), warn: false } : { text: `${current}/${desired}`, warn: true };
}

function subordinateUnitsOf(doc: ModelStatusDoc, appName: string): UnitStatusDoc[] {
  const found: UnitStatusDoc[] = [];
  const visit = (units: Record<string, UnitStatusDoc> | undefined): void => {
    for (const [unitName, u] of Object.entries(units ?? {})) {
      if (unitApp(unitName) === appName) found.push(u);
      visit(u.subordinates);
    }
  };
  for (const app of Object.values(doc.applications)) {
    for (const u of Object.values(app.units ?? {})) visit(u.subordinates);
  }
  return found;
}

// The document has no `charm-channel` key yet; read it when a server provides it.
function charmChannel(app: ApplicationStatusDoc): string {
  if (app['charm-origin'] === 'local') return '';
  const channel = (app as ApplicationStatusDoc & { 'charm-channel'?: unknown })['charm-channel'];
  return typeof channel === 'string' ? channel : '';
}

/** Roll-outs that are running or halted (issue 18): one row per application. */
function rolloutSection(doc: ModelStatusDoc, color: boolean): string {
  const rows: CellValue[][] = [];
  for (const name of sortedKeys(doc.applications)) {
    const r = doc.applications[name]!.rollout;
    if (!r || (r.status !== 'running' && r.status !== 'halted')) continue;
    rows.push([name, cell(r.status, r.status === 'halted' ? 'red' : 'yellow'), r.direction === 'back' ? 'rollback' : 'refresh', r.batch, r.phase, `${r.from} -> ${r.to}`, truncate(escapeControl(r.message ?? ''), MAX_MESSAGE_LENGTH)]);
  }
  if (rows.length === 0) return '';
  return renderTable(['Roll-out', 'Status', 'Direction', 'Batch', 'Phase', 'Charm', 'Message'], rows, { color });
}

function unitSection(doc: ModelStatusDoc, color: boolean): string {
  // A subordinate unit is listed only under its principal; a copy a document also carries
  // at the top level is skipped so the unit is not listed twice.
  const nested = new Set<string>();
  const collect = (units: Record<string, UnitStatusDoc> | undefined): void => {
    for (const u of Object.values(units ?? {})) {
      for (const sub of Object.keys(u.subordinates ?? {})) nested.add(sub);
      collect(u.subordinates);
    }
  };
  const top = new Map<string, UnitStatusDoc>();
  for (const app of Object.values(doc.applications)) {
    collect(app.units);
    for (const [n, u] of Object.entries(app.units ?? {})) top.set(n, u);
  }
  const rows: CellValue[][] = [];
  const add = (name: string, u: UnitStatusDoc, level: number): void => {
    rows.push(unitRow(name, u, level));
    for (const sub of sortedKeys(u.subordinates ?? {})) add(sub, u.subordinates![sub]!, level + 1);
  };
  for (const name of [...top.keys()].sort(naturalCompare)) {
    if (!nested.has(name)) add(name, top.get(name)!, 0);
  }
  if (rows.length === 0) return '';
  const headers = ['Unit', 'Workload', 'Agent', 'Machine', 'Public address', 'Ports', 'Message'];
  return renderTable(headers, rows, { color });
}

function unitRow(name: string, u: UnitStatusDoc, level: number): CellValue[] {
  const workload = u['workload-status'];
  const agent = u['juju-status'];
  let message = workload.message ?? '';
  if (agent.current === 'allocating' && message === '') message = agent.message ?? '';
  const doing = agentDoing(agent.current, agent.message ?? '');
  if (doing !== undefined) message = `(${doing}) ${message}`;
  if (u.rollout !== undefined) message = `[${u.rollout}${u['charm-rev'] !== undefined ? ` rev ${u['charm-rev']}` : ''}]${message ? ` ${message}` : ''}`;
  return [
    ' '.repeat(level * 2) + name + (u.leader === true ? '*' : ''),
    cell(workload.current, statusColour(workload.current)),
    cell(agent.current, statusColour(agent.current)),
    u.machine ?? '',
    cell(u['public-address'] ?? '', 'cyan'),
    (u['published-ports'] ?? u['open-ports'] ?? []).join(','),
    truncate(message, MAX_MESSAGE_LENGTH),
  ];
}

/** The hook or action an executing agent is running, from `running <hook> hook` / `running action <name>`. */
export function agentDoing(agentStatus: string, agentMessage: string): string | undefined {
  if (agentStatus !== 'executing') return undefined;
  const hook = /running (\S+) hook/.exec(agentMessage);
  if (hook) return hook[1];
  const action = /running action (.+)/.exec(agentMessage);
  return action ? action[1] : undefined;
}

function machineSection(doc: ModelStatusDoc, color: boolean): string {
  const ids = sortedKeys(doc.machines);
  if (ids.length === 0) return '';
  // As Juju: each host's containers are rows right after it.
  const rows = ids.flatMap((id) => {
    const m = doc.machines[id]!;
    const containers = m.containers ?? {};
    return [machineRow(id, m), ...sortedKeys(containers).map((c) => machineRow(c, containers[c]!))];
  });
  const headers = ['Machine', 'State', 'Address', 'Inst id', 'Base', 'AZ', 'Message'];
  return renderTable(headers, rows, { color });
}

function machineRow(id: string, m: MachineStatusDoc): CellValue[] {
  const state = m['juju-status'].current;
  return [
    id,
    cell(state, statusColour(state)),
    cell(m['dns-name'] ?? m['ip-addresses']?.[0] ?? '', 'cyan'),
    m['instance-id'],
    m.base.name ? `${m.base.name}@${m.base.channel}` : '',
    availabilityZone(m.hardware ?? ''),
    truncate(m['machine-status'].message ?? '', MAX_MESSAGE_LENGTH),
  ];
}

/** `availability-zone=…` from a hardware characteristics string such as `arch=amd64 cores=2`. */
function availabilityZone(hardware: string): string {
  for (const part of hardware.split(/\s+/)) {
    if (part.startsWith('availability-zone=')) return part.slice('availability-zone='.length);
  }
  return '';
}

function integrationSection(integrations: readonly RelationRow[], color: boolean): string {
  if (integrations.length === 0) return '';
  const sorted = [...integrations].sort(
    (a, b) => naturalCompare(a.provider, b.provider) || naturalCompare(a.requirer, b.requirer),
  );
  const withMessage = sorted.some((r) => r.status !== 'joined' || r.message);
  const headers = ['Integration provider', 'Requirer', 'Interface', 'Type'];
  if (withMessage) headers.push('Message');
  const rows = sorted.map((r): CellValue[] => {
    const row: CellValue[] = [r.provider, r.requirer, r.interface, r.type];
    // As in Juju, the status and its message are separate cells, so statuses line up.
    if (r.status !== 'joined' || r.message) {
      row.push(cell(r.status, relationStatusColour(r.status)), truncate(r.message ?? '', MAX_MESSAGE_LENGTH));
    } else if (withMessage) {
      row.push('');
    }
    return row;
  });
  return renderTable(headers, rows, { color });
}

function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort(naturalCompare);
}

/** Messages come from charms: control characters are shown escaped, then cut to fit. */
function truncate(raw: string, max: number): string {
  const text = escapeControl(raw);
  return text.length > max ? text.slice(0, max - ELLIPSIS.length) + ELLIPSIS : text;
}

/** Juju's `15:04:05Z07:00` in the process's local zone. */
function clockTime(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone =
    offset === 0
      ? 'Z'
      : `${offset > 0 ? '+' : '-'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone}`;
}

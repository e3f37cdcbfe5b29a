import type { ModelStatusDoc, UnitStatusDoc } from '@sigil/api';
import { describe, expect, test } from 'vitest';
import { stripAnsi } from './colour.ts';
import { statusDoc } from './status-doc.fixture.ts';
import { agentDoing, renderStatusTable } from './status-table.ts';

const since = '22 Nov 2025 10:00:00Z';

function unit(machine: string, agent = 'idle', workload = 'active'): UnitStatusDoc {
  return {
    'workload-status': { current: workload, since },
    'juju-status': { current: agent, since },
    machine,
  };
}

function emptyDoc(): ModelStatusDoc {
  const doc = statusDoc();
  return { ...doc, machines: {}, applications: {}, integrations: [] };
}

describe('renderStatusTable', () => {
  test('lays out a model as Juju 3.x does', () => {
    const out = renderStatusTable(statusDoc(), { color: false, relations: true });
    expect(out).toBe(`\
Model  Controller  Cloud/Region         Version  SLA          Timestamp
prod   local       localhost/localhost  0.1.0    unsupported  15:04:05+01:00

App        Version  Status   Scale  Charm      Channel     Rev  Exposed  Message
logging             active       1  logging                 12  no
mysql      8.0.36   waiting    1/2  mysql      8.0/stable   58  no       waiting for units
wordpress  6.4.2    error        1  wordpress                3  yes      hook failed: "db-relation-changed"

Unit          Workload  Agent       Machine  Public address  Ports           Message
mysql/0*      active    idle        0        10.0.0.10       3306/tcp        Primary
mysql/1       waiting   allocating  1                                        waiting for machine
wordpress/0*  error     idle        0        10.0.0.10       80/tcp,443/tcp  hook failed: "db-relation-changed"
  logging/0*  active    executing            10.0.0.10                       (update-status) forwarding logs

Machine  State    Address    Inst id       Base       AZ      Message
0        started  10.0.0.10  sigil-prod-0  debian@12  zone-a  Running
1        pending             pending       debian@12          creating container

Integration provider  Requirer              Interface    Type
mysql:database        wordpress:db          mysql        regular
mysql:database-peers  mysql:database-peers  mysql_peers  peer
wordpress:juju-info   logging:info          juju-info    subordinate
`);
  });

  test('leaves the Integration section out unless asked', () => {
    const out = renderStatusTable(statusDoc(), { color: false, relations: false });
    expect(out).not.toContain('Integration provider');
    expect(out.endsWith('1        pending             pending       debian@12          creating container\n')).toBe(true);
  });

  test('adds a Message column when an integration is not joined', () => {
    const doc = statusDoc();
    doc.integrations = [
      { id: 1, provider: 'mysql:database', requirer: 'wordpress:db', interface: 'mysql', type: 'regular', status: 'suspended', message: 'paused by admin' },
      { id: 3, provider: 'mysql:database', requirer: 'blog:db', interface: 'mysql', type: 'regular', status: 'broken' },
      { id: 0, provider: 'mysql:cluster', requirer: 'mysql:cluster', interface: 'mysql-ha', type: 'peer', status: 'joined' },
    ];
    const out = renderStatusTable(doc, { color: false, relations: true });
    expect(out.slice(out.indexOf('Integration provider'))).toBe(`\
Integration provider  Requirer       Interface  Type     Message
mysql:cluster         mysql:cluster  mysql-ha   peer
mysql:database        blog:db        mysql      regular  broken
mysql:database        wordpress:db   mysql      regular  suspended  paused by admin
`);
  });

  test('sorts units, apps and machines in natural order', () => {
    const doc = emptyDoc();
    const app = statusDoc().applications['wordpress']!;
    doc.applications = {
      'web-10': { ...app, units: { 'web-10/0': unit('10') } },
      web: { ...app, units: { 'web/10': unit('10'), 'web/2': unit('2'), 'web/1': unit('1') } },
      'web-2': { ...app, units: { 'web-2/0': unit('2') } },
    };
    for (const id of ['10', '2', '1']) doc.machines[id] = { ...statusDoc().machines['0']!, 'instance-id': `i-${id}` };
    const lines = renderStatusTable(doc, { color: false, relations: false }).split('\n');
    const first = (prefix: string): string[] =>
      lines.filter((l) => l.startsWith(prefix)).map((l) => l.split(/\s+/)[0]!);
    // Digit runs compare by value; '-' sorts before '/', as in Juju's naturalsort, so
    // `web-2/0` comes before `web/1`.
    expect(first('web')).toEqual(['web', 'web-2', 'web-10', 'web-2/0', 'web-10/0', 'web/1', 'web/2', 'web/10']);
    expect(lines.filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['1', '2', '10']);
  });

  test('colours statuses only with color: true', () => {
    const plain = renderStatusTable(statusDoc(), { color: false, relations: true });
    expect(plain).not.toContain('\x1b[');
    const coloured = renderStatusTable(statusDoc(), { color: true, relations: true });
    expect(coloured).toContain('\x1b[32mactive\x1b[0m');
    expect(coloured).toContain('\x1b[31merror\x1b[0m');
    expect(coloured).toContain('\x1b[33mallocating\x1b[0m');
    expect(coloured).toContain('\x1b[33m1/2\x1b[0m');
    expect(coloured).toContain('\x1b[33mpending\x1b[0m');
    expect(stripAnsi(coloured)).toBe(plain);
  });

  test('omits empty sections', () => {
    const out = renderStatusTable(emptyDoc(), { color: false, relations: true });
    expect(out).toBe(
      'Model  Controller  Cloud/Region         Version  SLA          Timestamp\n' +
        'prod   local       localhost/localhost  0.1.0    unsupported  15:04:05+01:00\n',
    );
  });

  test('model notes; clock fallback; no SLA column when unset', () => {
    const doc = emptyDoc();
    const { region: _region, ...model } = doc.model;
    doc.model = { ...model, sla: '', 'model-status': { current: 'busy', message: 'migrating' } };
    doc.controller = { timestamp: '' };
    const out = renderStatusTable(doc, { color: false, relations: false, now: new Date() });
    const [header, row] = out.split('\n');
    expect(header).toMatch(/^Model  Controller  Cloud\/Region  Version  Timestamp +Notes$/);
    expect(row).toMatch(/^prod {3}local {7}localhost {5}0\.1\.0 {4}\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) {2}migrating$/);
  });

  test('Scale: n when healthy, desired from scale, terminated and lost units not counted', () => {
    const doc = emptyDoc();
    const { scale: _scale, ...app } = statusDoc().applications['wordpress']!;
    doc.applications = {
      a: { ...app, scale: 3, units: { 'a/0': unit('0'), 'a/1': unit('0', 'executing'), 'a/2': unit('0') } },
      b: { ...app, units: { 'b/0': unit('0'), 'b/1': unit('0', 'lost') } },
      c: { ...app, scale: 3, units: { 'c/0': unit('0'), 'c/1': unit('0', 'idle', 'terminated') } },
    };
    const scales = renderStatusTable(doc, { color: false, relations: false })
      .split('\n')
      .filter((l) => /^[abc] /.test(l))
      .map((l) => l.split(/\s+/)[3]);
    expect(scales).toEqual(['3', '1/2', '1/3']);
  });

  test('a running or halted roll-out gets its own section, and its units their state and revision', () => {
    const doc = emptyDoc();
    const { scale: _scale, ...app } = statusDoc().applications['wordpress']!;
    const rollout = { status: 'halted' as const, direction: 'forward' as const, batch: '1/2', phase: 'gate-wait' as const, from: 'web-3', to: 'web-4', message: 'gate failed on batch 1/2: web/0: exit status 1' };
    doc.applications = { web: { ...app, rollout, units: { 'web/0': { ...unit('0'), rollout: 'halted', 'charm-rev': 4 }, 'web/1': { ...unit('1'), rollout: 'pending' } } } };
    const out = renderStatusTable(doc, { color: false, relations: false });
    expect(out).toMatch(/^Roll-out {2}Status {2}Direction {2}Batch {2}Phase {6}Charm {11}Message\nweb {7}halted {2}refresh {4}1\/2 {4}gate-wait {2}web-3 -> web-4 {2}gate failed on batch 1\/2: web\/0: exit status 1$/m);
    expect(out).toMatch(/^web\/0 .*\[halted rev 4\]$/m);
    expect(out).toMatch(/^web\/1 .*\[pending\]$/m);
    doc.applications.web!.rollout = { ...rollout, status: 'done' };
    expect(renderStatusTable(doc, { color: false, relations: false })).not.toMatch(/Roll-out/);
  });
});

describe('containers in the machine section', () => {
  test('each host\'s containers are rows right after it, as in Juju', () => {
    const doc = emptyDoc();
    const m = (addr: string) => ({ 'juju-status': { current: 'started', since }, 'dns-name': addr, 'instance-id': `i-${addr}`, 'machine-status': { current: 'running', since }, base: { name: 'debian', channel: '12' } });
    doc.machines = { '10': m('10.0.0.10'), '2': { ...m('10.0.0.2'), containers: { '2/lxc/10': m('10.9.0.10'), '2/lxc/9': m('10.9.0.9') } } };
    const out = stripAnsi(renderStatusTable(doc, { color: false, relations: false, now: new Date() }));
    const rows = out.split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(rows).toEqual(['2', '2/lxc/9', '2/lxc/10', '10']);
  });
});

describe('agentDoing', () => {
  test.each([
    ['executing', 'running install hook', 'install'],
    ['executing', 'running db-relation-changed hook', 'db-relation-changed'],
    ['executing', 'running action backup', 'backup'],
    ['executing', 'running operation', undefined],
    ['idle', 'running install hook', undefined],
  ])('%s %j → %s', (status, message, doing) => {
    expect(agentDoing(status, message)).toBe(doing);
  });
});

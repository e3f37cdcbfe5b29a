import { describe, expect, test } from 'vitest';
import { event, run, state } from '@sigil/charm-sdk/testing';
import { spec } from './charm.gen.ts';
import { MAX_FORWARDED, build } from './charm.ts';
import { plan, render, settingsFrom } from './settings.ts';
import type { Workload } from './workload.ts';

const DEFAULTS = { size: 768, 'tcp-port': 11211, 'udp-port': 0, 'connection-limit': 1024, debug: false };

/** A machine in memory: the config file, whether memcached runs, and what was done to it. */
class FakeMachine implements Workload {
  calls: string[] = [];
  conf: string;
  up: boolean;
  journal: string[] = [];

  constructor(opts: { conf?: string; up?: boolean } = {}) {
    this.conf = opts.conf ?? '';
    this.up = opts.up ?? false;
  }
  async install() {
    this.calls.push('install');
  }
  async version() {
    return '1.6.18';
  }
  async readConfig() {
    return this.conf;
  }
  async writeConfig(text: string) {
    this.calls.push('write');
    this.conf = text;
  }
  async running() {
    return this.up;
  }
  async restart() {
    this.calls.push('restart');
    this.up = true;
  }
  async stop() {
    this.calls.push('stop');
    this.up = false;
  }
  async setVerbosity(port: number, level: number) {
    this.calls.push(`verbosity ${level} on ${port}`);
  }
  async newLogLines() {
    return this.journal.splice(0);
  }
  async stats(port: number) {
    this.calls.push(`stats on ${port}`);
    return { limit_maxbytes: '805306368', curr_items: '3' };
  }
}

/** A machine already running memcached with this config. */
const runningWith = (config: Partial<typeof DEFAULTS> = {}) => new FakeMachine({ conf: render(settingsFrom({ ...DEFAULTS, ...config })), up: true });

describe('configuration', () => {
  test('install then config-changed writes the options, starts memcached, opens the port and reports what it runs', async () => {
    const m = new FakeMachine({ conf: '-m 64\n-p 11211\n-l 127.0.0.1\n' });
    const installed = await run(build(m), event.install(), state(spec));
    expect(installed.workloadVersion).toBe('1.6.18');
    expect(m.calls).toEqual(['install', 'write', 'restart']);
    expect(m.conf).toContain('-m 768\n-p 11211\n-U 0\n-c 1024\n');
    expect(m.conf).not.toMatch(/^-l/m);
    expect(installed.ports).toEqual([{ port: 11211, protocol: 'tcp' }]);
    expect(installed.unitStatus).toEqual({ name: 'active', message: 'ready on port 11211: 768 MB, 1024 connections' });
  });

  test('an unchanged config neither writes nor restarts', async () => {
    const m = runningWith();
    await run(build(m), event.configChanged(), state(spec));
    await run(build(m), event.updateStatus(), state(spec));
    expect(m.calls).toEqual([]);
  });

  test('a new size or port rewrites the options and restarts; the ports follow', async () => {
    const m = runningWith();
    const out = await run(build(m), event.configChanged(), state(spec, { config: { size: 128, 'tcp-port': 11311, 'udp-port': 11312 }, ports: [{ port: 11211, protocol: 'tcp' }] }));
    expect(m.calls).toEqual(['write', 'restart']);
    expect(m.conf).toContain('-m 128\n-p 11311\n-U 11312\n');
    expect(out.ports).toEqual([{ port: 11311, protocol: 'tcp' }, { port: 11312, protocol: 'udp' }]);
  });

  test('a failed in-place change leaves the file alone, so the retried hook tries again', async () => {
    const m = runningWith();
    const before = m.conf;
    m.setVerbosity = () => Promise.reject(new Error('memcached on port 11211 did not answer'));
    await expect(run(build(m), event.configChanged(), state(spec, { config: { debug: true } }))).rejects.toThrow(/did not answer/);
    expect(m.conf).toBe(before);
  });

  test('memcached found stopped is started again', async () => {
    const m = runningWith();
    m.up = false;
    await run(build(m), event.updateStatus(), state(spec));
    expect(m.calls).toEqual(['restart']);
  });

  test('debug on and off changes the verbosity in place, without a restart, and is kept for the next start', async () => {
    const m = runningWith();
    const on = await run(build(m), event.configChanged(), state(spec, { config: { debug: true } }));
    expect(m.calls).toEqual(['verbosity 2 on 11211', 'write']);
    expect(m.conf).toMatch(/^-vv$/m);
    expect(on.unitStatus?.message).toBe('ready on port 11211: 768 MB, 1024 connections; debug: verbose, output in debug-log');
    m.calls = [];
    await run(build(m), event.configChanged(), state(spec, { config: { debug: false } }));
    expect(m.calls).toEqual(['verbosity 0 on 11211', 'write']);
    expect(m.conf).not.toMatch(/^-v/m);
  });

  const bad: [string, Partial<typeof DEFAULTS>, string][] = [
    ['size', { size: 0 }, 'size=0 is too small: give memcached at least 1 (MB)'],
    ['tcp-port', { 'tcp-port': 70000 }, 'tcp-port=70000 is not a port: use 1-65535'],
    ['udp-port', { 'udp-port': -1 }, 'udp-port=-1 is not a port: use 1-65535, or 0 to turn UDP off'],
    ['connection-limit', { 'connection-limit': 0 }, 'connection-limit=0 is too small: allow at least 1 connection'],
  ];
  test.each(bad)('a bad %s blocks, naming it, and leaves memcached, its ports and relations as they were', async (_name, config, message) => {
    const m = runningWith();
    const before = m.conf;
    const rel = { endpoint: 'cache', id: 4, remoteApp: 'web', remoteUnits: { 'web/0': {} }, localUnitData: { host: '10.0.0.10', port: '11211', 'udp-port': '0' } };
    const out = await run(build(m), event.configChanged(), state(spec, { config, ports: [{ port: 11211, protocol: 'tcp' }], relations: [rel] }));
    expect(out.unitStatus).toEqual({ name: 'blocked', message });
    expect(m.calls).toEqual([]);
    expect(m.conf).toBe(before);
    expect(out.ports).toEqual([{ port: 11211, protocol: 'tcp' }]);
    expect(out.relations[0]!.localUnitData).toEqual(rel.localUnitData);
  });
});

describe('the cache relation', () => {
  test('publishes the keys of Juju\'s memcached charm: host, port and udp-port', async () => {
    const s = state(spec, { config: { 'udp-port': 11212 }, relations: [{ endpoint: 'cache', id: 3, remoteApp: 'web', remoteUnits: { 'web/0': {} } }] });
    const out = await run(build(runningWith({ 'udp-port': 11212 })), event.relationJoined(s.relations[0]!, 'web/0'), s);
    expect(out.relations[0]!.localUnitData).toEqual({ host: '10.0.0.10', port: '11211', 'udp-port': '11212' });
  });

  test('a port change reaches every related application', async () => {
    const rels = [1, 2].map((id) => ({ endpoint: 'cache', id, remoteApp: `app${id}`, remoteUnits: { [`app${id}/0`]: {} }, localUnitData: { host: '10.0.0.10', port: '11211', 'udp-port': '0' } }));
    const out = await run(build(runningWith()), event.configChanged(), state(spec, { config: { 'tcp-port': 11300 }, relations: rels }));
    expect(out.relations.map((r) => r.localUnitData.port)).toEqual(['11300', '11300']);
  });
});

describe('memcached output in debug-log', () => {
  test('new journal lines are forwarded at each hook, once', async () => {
    const m = runningWith({ debug: true });
    m.journal.push('<28 set k 0 0 2', '>28 STORED');
    const first = await run(build(m), event.updateStatus(), state(spec, { config: { debug: true } }));
    expect(first.logs).toEqual([
      { level: 'INFO', message: 'memcached: <28 set k 0 0 2' },
      { level: 'INFO', message: 'memcached: >28 STORED' },
    ]);
    const second = await run(build(m), event.updateStatus(), state(spec, { config: { debug: true } }));
    expect(second.logs).toEqual([]);
  });

  test('a flood is cut to the latest lines, saying how many were skipped', async () => {
    const m = runningWith({ debug: true });
    for (let i = 0; i < MAX_FORWARDED + 5; i++) m.journal.push(`line ${i}`);
    const out = await run(build(m), event.updateStatus(), state(spec, { config: { debug: true } }));
    expect(out.logs).toHaveLength(MAX_FORWARDED + 1);
    expect(out.logs[0]!.message).toBe('memcached: 5 earlier lines skipped (journalctl -u memcached has them all)');
    expect(out.logs[1]!.message).toBe('memcached: line 5');
  });

  test('an unreadable journal is a warning, not a failed hook', async () => {
    const m = runningWith();
    m.newLogLines = () => Promise.reject(new Error('journalctl exited 1'));
    const out = await run(build(m), event.updateStatus(), state(spec));
    expect(out.logs).toEqual([{ level: 'WARNING', message: "cannot read memcached's journal: journalctl exited 1" }]);
    expect(out.unitStatus?.name).toBe('active');
  });
});

test('stop stops memcached and does not start it again', async () => {
  const m = runningWith();
  await run(build(m), event.stop(), state(spec));
  expect(m.calls).toEqual(['stop']);
});

test('the stats action asks the port memcached runs on and hyphenates the names', async () => {
  const m = runningWith({ 'tcp-port': 11300 });
  const out = await run(build(m), event.action('stats'), state(spec, { config: { 'tcp-port': 1 } }));
  expect(m.calls).toEqual(['stats on 11300']);
  expect(out.action?.results).toEqual({ 'limit-maxbytes': '805306368', 'curr-items': '3' });
});

describe('plan', () => {
  const base = render(settingsFrom(DEFAULTS));
  const cases: [string, string, string, ReturnType<typeof plan>][] = [
    ['same text', base, base, { kind: 'none' }],
    ['debug on', base, render(settingsFrom({ ...DEFAULTS, debug: true })), { kind: 'verbosity', level: 2 }],
    ['debug off', render(settingsFrom({ ...DEFAULTS, debug: true })), base, { kind: 'verbosity', level: 0 }],
    ['a single -v by hand, then debug', base.replace('-c 1024\n', '-c 1024\n-v\n'), render(settingsFrom({ ...DEFAULTS, debug: true })), { kind: 'verbosity', level: 2 }],
    ['size', base, render(settingsFrom({ ...DEFAULTS, size: 64 })), { kind: 'restart' }],
    ['size and debug', base, render(settingsFrom({ ...DEFAULTS, size: 64, debug: true })), { kind: 'restart' }],
    ["Debian's default file", '-d\nlogfile /var/log/memcached.log\n-m 64\n-p 11211\n', base, { kind: 'restart' }],
  ];
  test.each(cases)('%s', (_name, current, wanted, expected) => {
    expect(plan(current, wanted)).toEqual(expected);
  });
});

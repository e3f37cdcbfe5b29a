import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseCharm } from './charm/charm.ts';
import { charmHookNames, checkDebugNames, debugMatches, debugPaths, encodeDebugArgs, parseDebugArgs } from './debug-hooks.ts';
import { SigilError } from './errors.ts';

const charm = parseCharm({
  metadata: 'name: db\nsummary: s\ndescription: d\nprovides:\n  db:\n    interface: pgsql\nrequires:\n  cache:\n    interface: memcache\npeers:\n  cluster:\n    interface: db-peers\nstorage:\n  data:\n    type: filesystem\ncontainers:\n  workload:\n    resource: img\n',
  actions: 'backup:\n  description: b\n',
});

describe('debugPaths', () => {
  it('uses Juju\'s lock files and the default tmux server on a real machine', () => {
    expect(debugPaths('/', 'wordpress/0')).toEqual({
      tmp: '/tmp',
      args: '/tmp/juju-unit-wordpress-0-debug-hooks',
      exitLock: '/tmp/juju-unit-wordpress-0-debug-hooks-exit',
      tmux: [],
      session: 'wordpress/0',
    });
  });

  it('keeps a local-process machine\'s files and tmux server inside its directory', () => {
    const p = debugPaths('/home/x/sigil/machines/default/3/', 'db/12');
    expect(p.args).toBe('/home/x/sigil/machines/default/3/tmp/juju-unit-db-12-debug-hooks');
    expect(p.tmux).toEqual(['-S', '/home/x/sigil/machines/default/3/tmp/sigil-tmux.sock']);
  });
});

describe('debug arguments', () => {
  it.each([
    [{ hooks: [] }, {}],
    [{ hooks: ['install', 'start'] }, { hooks: ['install', 'start'] }],
    [{ hooks: [], debugAt: 'all,broken' }, { 'debug-at': 'all,broken' }],
    [{ hooks: ['db-relation-changed', 'stop'], debugAt: 'hook' }, { hooks: ['db-relation-changed', 'stop'], 'debug-at': 'hook' }],
  ])('%j is written as Juju writes it and read back', (args, yaml) => {
    const text = encodeDebugArgs(args);
    expect(YAML.parse(text)).toEqual(yaml);
    expect(parseDebugArgs(text)).toEqual(args);
  });

  it('reads an empty file as "every hook" and refuses what is not a mapping', () => {
    expect(parseDebugArgs('')).toEqual({ hooks: [] });
    expect(parseDebugArgs('- a\n- b\n')).toBeUndefined();
    expect(parseDebugArgs('hooks: [unclosed')).toBeUndefined();
    expect(parseDebugArgs('hooks: [install, 7]\n')).toEqual({ hooks: ['install'] });
  });
});

describe('debugMatches', () => {
  it.each([
    [[], 'install', true],
    [[], 'backup', true],
    [['config-changed'], 'config-changed', true],
    [['config-changed'], 'update-status', false],
    [['backup', 'start'], 'backup', true],
  ])('session %j stops at %s: %s', (hooks, name, stops) => {
    expect(debugMatches({ hooks }, name)).toBe(stops);
  });
});

describe('charmHookNames', () => {
  it('lists unit, secret, relation (juju-info too), storage and workload hooks', () => {
    const names = charmHookNames(charm);
    for (const h of ['install', 'leader-deposed', 'update-status', 'secret-rotate', 'db-relation-created', 'cache-relation-broken', 'cluster-relation-departed', 'juju-info-relation-joined', 'data-storage-attached', 'data-storage-detaching', 'workload-pebble-ready']) {
      expect(names).toContain(h);
    }
    expect(names).not.toContain('backup');
    expect(names).not.toContain('nope-relation-joined');
    expect(names).toEqual([...names].sort());
  });
});

describe('checkDebugNames', () => {
  const hooks = charmHookNames(charm);
  it('accepts hooks and actions, and "*" for all', () => {
    expect(checkDebugNames('db/0', ['config-changed', 'backup', 'config-changed'], hooks, ['backup'])).toEqual(['config-changed', 'backup']);
    expect(checkDebugNames('db/0', ['install', '*'], hooks, ['backup'])).toEqual([]);
    expect(checkDebugNames('db/0', [], hooks, ['backup'])).toEqual([]);
  });

  it('refuses a name the charm does not have, as Juju words it, with a hint', () => {
    let err: unknown;
    try {
      checkDebugNames('db/0', ['install', 'no-such-hook'], hooks, ['backup']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SigilError);
    const e = err as SigilError;
    expect(e.code).toBe('bad-request');
    expect(e.message).toMatch(/^unit "db\/0" contains neither hook nor action "no-such-hook", valid actions are \[backup\] and valid hooks are \[cache-relation-broken /);
    expect(e.hint).toContain('"*"');
  });
});

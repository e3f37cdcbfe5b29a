/**
 * A hook context for tests: wordpress/0 (the leader) related to mysql over `db`, to
 * haproxy over `website`, and to its peers over `cluster`. Tests change what they need.
 */
import { type HookSnapshot, type HookToolEnv, type LogLevel, emptyChanges } from './context.ts';

export interface TestEnv extends HookToolEnv {
  logs: [LogLevel, string][];
  actionLogs: string[];
}

export function testSnapshot(): HookSnapshot {
  return {
    unit: 'wordpress/0',
    app: 'wordpress',
    leader: true,
    modelName: 'default',
    modelUuid: '00000000-0000-4000-8000-000000000000',
    machineId: '0',
    privateAddress: '10.0.0.5',
    publicAddress: '203.0.113.5',
    config: { blog_title: 'My Blog', port: 80, debug: false, ratio: 1.5, unset_option: null },
    relations: {
      2: {
        id: 2,
        endpoint: 'db',
        interface: 'mysql',
        role: 'requirer',
        remoteApp: 'mysql',
        members: ['mysql/0', 'mysql/1'],
        unitData: {
          'wordpress/0': { 'private-address': '10.0.0.5', 'ingress-address': '10.0.0.5' },
          'mysql/0': { host: '10.0.0.9', password: 's3cret', port: '3306' },
          'mysql/1': {},
          'mysql/7': { host: 'departed' },
        },
        appData: { mysql: { database: 'wp' }, wordpress: { requested: 'yes' } },
      },
      10: {
        id: 10,
        endpoint: 'db',
        interface: 'mysql',
        role: 'requirer',
        remoteApp: 'mysql-replica',
        members: [],
        unitData: { 'wordpress/0': {} },
        appData: {},
      },
      3: {
        id: 3,
        endpoint: 'website',
        interface: 'http',
        role: 'provider',
        remoteApp: 'haproxy',
        members: ['haproxy/0'],
        unitData: { 'haproxy/0': {}, 'wordpress/0': {} },
        appData: { haproxy: {}, wordpress: {} },
      },
      1: {
        id: 1,
        endpoint: 'cluster',
        interface: 'wp-cluster',
        role: 'peer',
        remoteApp: 'wordpress',
        members: ['wordpress/1'],
        unitData: { 'wordpress/0': {}, 'wordpress/1': { ready: 'true' } },
        appData: { wordpress: { secret: 'shared' } },
      },
    },
    leaderSettings: { 'admin-password': 'hunter2' },
    unitState: { installed: '1' },
    unitStatus: { status: 'active', message: 'ready' },
    appStatus: { status: 'active', message: '' },
    appUnitStatuses: {
      'wordpress/0': { status: 'active', message: 'ready' },
      'wordpress/1': { status: 'waiting', message: 'syncing', data: { progress: 40 } },
    },
    openedPorts: [{ from: 80, to: 80, protocol: 'tcp', endpoints: ['*'] }],
    hookRelationId: 2,
    remoteUnit: 'mysql/0',
    remoteApp: 'mysql',
  };
}

export function testEnv(change?: (s: HookSnapshot) => void): TestEnv {
  const snapshot = testSnapshot();
  change?.(snapshot);
  const logs: [LogLevel, string][] = [];
  const actionLogs: string[] = [];
  return {
    snapshot,
    changes: emptyChanges(),
    logs,
    actionLogs,
    log: (level, message) => logs.push([level, message]),
    actionLog: (message) => actionLogs.push(message),
  };
}

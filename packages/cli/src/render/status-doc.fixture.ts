/**
 * A realistic status document for the render tests: a database at 1/2 scale, an exposed
 * web app whose unit is in hook error with a subordinate running a hook, two machines and
 * peer, regular and subordinate integrations.
 */
import type { ApplicationStatusDoc, ModelStatusDoc } from '@sigil/api';

const since = '22 Nov 2025 10:00:00Z';

// `charm-channel` is not in ApplicationStatusDoc yet; the renderer reads it when present.
const mysql: ApplicationStatusDoc & { 'charm-channel': string } = {
  charm: 'mysql',
  base: { name: 'debian', channel: '12' },
  'charm-origin': 'charmhub',
  'charm-name': 'mysql',
  'charm-rev': 58,
  'charm-channel': '8.0/stable',
  exposed: false,
  'application-status': { current: 'waiting', message: 'waiting for units', since },
  relations: {
    database: [{ 'related-application': 'wordpress', interface: 'mysql', scope: 'global' }],
    'database-peers': [{ 'related-application': 'mysql', interface: 'mysql_peers', scope: 'global' }],
  },
  units: {
    'mysql/0': {
      'workload-status': { current: 'active', message: 'Primary', since },
      'juju-status': { current: 'idle', since, version: '0.1.0' },
      leader: true,
      machine: '0',
      'open-ports': ['3306/tcp'],
      'public-address': '10.0.0.10',
    },
    'mysql/1': {
      'workload-status': { current: 'waiting', message: '', since },
      'juju-status': { current: 'allocating', message: 'waiting for machine', since },
      machine: '1',
    },
  },
  version: '8.0.36',
  scale: 2,
};

export function statusDoc(): ModelStatusDoc {
  return {
    model: {
      name: 'prod',
      type: 'iaas',
      controller: 'local',
      cloud: 'localhost',
      region: 'localhost',
      version: '0.1.0',
      'model-status': { current: 'available', since },
      sla: 'unsupported',
    },
    machines: {
      '0': {
        'juju-status': { current: 'started', since, version: '0.1.0' },
        hostname: 'sigil-prod-0',
        'dns-name': '10.0.0.10',
        'ip-addresses': ['10.0.0.10'],
        'instance-id': 'sigil-prod-0',
        'machine-status': { current: 'running', message: 'Running', since },
        base: { name: 'debian', channel: '12' },
        hardware: 'arch=amd64 cores=2 mem=4096M availability-zone=zone-a',
      },
      '1': {
        'juju-status': { current: 'pending', since },
        'instance-id': 'pending',
        'machine-status': { current: 'allocating', message: 'creating container', since },
        base: { name: 'debian', channel: '12' },
      },
    },
    applications: {
      wordpress: {
        charm: 'wordpress',
        base: { name: 'debian', channel: '12' },
        'charm-origin': 'local',
        'charm-name': 'wordpress',
        'charm-rev': 3,
        exposed: true,
        'application-status': { current: 'error', message: 'hook failed: "db-relation-changed"', since },
        units: {
          'wordpress/0': {
            'workload-status': { current: 'error', message: 'hook failed: "db-relation-changed"', since },
            'juju-status': { current: 'idle', since },
            leader: true,
            machine: '0',
            'open-ports': ['80/tcp', '443/tcp'],
            'public-address': '10.0.0.10',
            subordinates: {
              'logging/0': {
                'workload-status': { current: 'active', message: 'forwarding logs', since },
                'juju-status': { current: 'executing', message: 'running update-status hook', since },
                leader: true,
                'public-address': '10.0.0.10',
              },
            },
          },
        },
        version: '6.4.2',
        scale: 1,
      },
      mysql,
      logging: {
        charm: 'logging',
        base: { name: 'debian', channel: '12' },
        'charm-origin': 'charmhub',
        'charm-name': 'logging',
        'charm-rev': 12,
        exposed: false,
        'application-status': { current: 'active', since },
        'subordinate-to': ['wordpress'],
      },
    },
    'application-endpoints': {},
    offers: {},
    integrations: [
      { id: 2, provider: 'wordpress:juju-info', requirer: 'logging:info', interface: 'juju-info', type: 'subordinate', status: 'joined' },
      { id: 1, provider: 'mysql:database', requirer: 'wordpress:db', interface: 'mysql', type: 'regular', status: 'joined' },
      { id: 0, provider: 'mysql:database-peers', requirer: 'mysql:database-peers', interface: 'mysql_peers', type: 'peer', status: 'joined' },
    ],
    controller: { timestamp: '15:04:05+01:00' },
    revision: 42,
  };
}

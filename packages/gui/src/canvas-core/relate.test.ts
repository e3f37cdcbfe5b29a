import { describe, expect, it } from 'vitest';
import type { EndpointSpec } from '@sigil/core';
import type { GuiRelation } from '@sigil/api';
import { compatiblePairs, type RelateSide } from './relate.ts';

const ep = (name: string, role: EndpointSpec['role'], iface: string, scope: EndpointSpec['scope'] = 'global'): EndpointSpec => ({ name, role, interface: iface, optional: false, scope });
const info = ep('juju-info', 'provider', 'juju-info');
const wordpress: RelateSide = { app: 'wordpress', subordinate: false, endpoints: [ep('db', 'requirer', 'mysql'), ep('cache', 'requirer', 'memcache'), ep('website', 'provider', 'http'), info] };
const mysql: RelateSide = { app: 'mysql', subordinate: false, endpoints: [ep('db', 'provider', 'mysql'), ep('backup-db', 'provider', 'mysql'), ep('cluster', 'peer', 'mysql-ha'), info] };
const logger: RelateSide = { app: 'logger', subordinate: true, endpoints: [ep('host', 'requirer', 'juju-info', 'container'), info] };

describe('compatiblePairs (what a drag may relate)', () => {
  it('offers every provider/requirer pair of equal interface, in drag order', () => {
    expect(compatiblePairs(wordpress, mysql, []).map((p) => `${p.a} ${p.b}`)).toEqual(['wordpress:db mysql:db', 'wordpress:db mysql:backup-db']);
    expect(compatiblePairs(mysql, wordpress, []).map((p) => `${p.a} ${p.b}`)).toEqual(['mysql:db wordpress:db', 'mysql:backup-db wordpress:db']);
  });

  it('leaves out relations that exist', () => {
    const existing: GuiRelation = { id: 3, key: 'wordpress:db mysql:db', life: 'alive', endpoints: [
      { app: 'wordpress', name: 'db', role: 'requirer', interface: 'mysql', scope: 'global' },
      { app: 'mysql', name: 'db', role: 'provider', interface: 'mysql', scope: 'global' },
    ] };
    expect(compatiblePairs(wordpress, mysql, [existing]).map((p) => p.b)).toEqual(['mysql:backup-db']);
  });

  it('offers juju-info only to attach a subordinate, never between two principals', () => {
    expect(compatiblePairs(logger, mysql, [])).toEqual([{ a: 'logger:host', b: 'mysql:juju-info', interface: 'juju-info', container: true }]);
    const plain: RelateSide = { app: 'plain', subordinate: false, endpoints: [ep('host', 'requirer', 'juju-info', 'container')] };
    expect(compatiblePairs(plain, mysql, [])).toEqual([]);
  });

  it('offers nothing between an application and itself or with no shared interface', () => {
    expect(compatiblePairs(mysql, mysql, [])).toEqual([]);
    expect(compatiblePairs(wordpress, { app: 'x', subordinate: false, endpoints: [ep('y', 'provider', 'other')] }, [])).toEqual([]);
  });
});

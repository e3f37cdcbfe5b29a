import { SigilError } from '@sigil/core';
import type { ShowUnitDoc } from '@sigil/api';
import { json, type Store } from '../store/store.ts';
import { Reads } from '../state/rows.ts';
import { RelationRepository } from '../state/relations.ts';

type Bag = Record<string, string>;

/**
 * `sigil show-unit`: a unit and every relation bag it can see, in Juju's show-unit shape
 * (relation-info with application-data, local-unit and related-units). Relation data is
 * the thing Juju users most often cannot see (juju/juju#13218).
 */
export function showUnit(s: Store, model: string, name: string): ShowUnitDoc {
  const reads = new Reads(s);
  const relations = new RelationRepository(s);
  return s.db.transaction(() => {
    const u = reads.unit(model, name);
    if (!u) throw new SigilError('not-found', `unit "${name}" not found in model "${model}"`, 'see `sigil status` for the units in this model');
    const app = reads.mustApp(model, u.app);
    const relationInfo = reads.relations(model).filter((r) => r.endpoints.some((e) => e.app === u.app)).map((r) => {
      const local = r.endpoints.find((e) => e.app === u.app)!;
      const remote = r.endpoints.find((e) => e.app !== u.app) ?? local;
      const scope = new Set(reads.relationScope(model, r.id));
      const bags = relations.bags(model, r.id);
      const unitBag = (owner: string) => json<Bag>(bags.find((b) => !b.isApp && b.owner === owner)?.data, {});
      const appBag = (owner: string) => json<Bag>(bags.find((b) => b.isApp && b.owner === owner)?.data, {});
      const related: ShowUnitDoc[string]['relation-info'][number]['related-units'] = {};
      for (const b of bags) {
        if (b.isApp || b.owner === u.name || !b.owner.startsWith(remote.app + '/')) continue;
        related[b.owner] = { 'in-scope': scope.has(b.owner), data: unitBag(b.owner) };
      }
      return {
        'relation-id': r.id,
        endpoint: local.name,
        'related-endpoint': remote.name,
        'application-data': appBag(remote.app),
        ...(app.leader === u.name || r.endpoints.length === 1 ? { 'local-application-data': appBag(u.app) } : {}),
        'local-unit': { 'in-scope': scope.has(u.name), data: unitBag(u.name) },
        'related-units': related,
      };
    });
    const machine = u.machine === null ? undefined : reads.machine(model, u.machine);
    return {
      [u.name]: {
        ...(u.version ? { 'workload-version': u.version } : {}),
        ...(u.machine !== null ? { machine: u.machine } : {}),
        ...(u.principal !== null ? { principal: u.principal } : {}),
        'opened-ports': u.ports.map((p) => (p.from === p.to ? `${p.from}/${p.protocol}` : `${p.from}-${p.to}/${p.protocol}`)),
        ...(machine?.address ? { 'public-address': machine.address } : {}),
        charm: app.charmUrl,
        leader: app.leader === u.name,
        life: u.life,
        'workload-status': { current: u.workload.current, message: u.workload.message },
        'juju-status': { current: u.agent.current, message: u.agent.message, ...(u.agent.data ? { data: u.agent.data } : {}) },
        'relation-info': relationInfo,
      },
    };
  })();
}

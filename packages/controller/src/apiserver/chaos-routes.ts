import type { FastifyInstance } from 'fastify';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { heal, listPartitions, partition } from '@sigil/chaos';
import type { ChaosEntry } from '@sigil/api';
import { checkFaults } from '../domain/chaos.ts';
import { routes } from './contract.ts';

/**
 * Relation chaos (`sigil chaos add|list|remove|reset`). Adding opens the proxies first and
 * records them after; a failure on the way closes what was opened, so bad input or a port
 * that cannot be had changes nothing. Who may call: the contract (`write`: chaos changes
 * how the model behaves, as relating does).
 */
export function registerChaosRoutes(app: FastifyInstance, svc: Services): void {
  const on = routes(app);
  const model = (name: string) => svc.models.mustGet(name).name;
  const proxies = () => {
    if (!svc.chaosProxies) throw new SigilError('unavailable', 'this controller runs no chaos proxies', 'restart the controller with a build that has `sigil chaos`');
    return svc.chaosProxies;
  };

  on('GET /api/models/:model/chaos', async (req) => svc.chaos.list(model(req.params.model)));

  on('POST /api/models/:model/chaos', async (req) => {
    const m = model(req.params.model);
    const { relation, consumer, provider } = svc.chaos.resolve(m, req.body.a, req.body.b);
    const faults = checkFaults(req.body.faults);
    if (svc.chaos.get(m, relation.id)) {
      throw new SigilError('already-exists', `relation ${relation.key} is already under chaos`, `remove it first: sigil chaos remove ${req.body.a} ${req.body.b}`);
    }
    const targets = svc.chaos.targets(m, relation.id, provider.app);
    if (targets.length === 0) {
      throw new SigilError('conflict', `${provider.app} publishes no address and port on relation ${relation.key} yet`, 'chaos fronts the ports the provider puts in its relation data (keys ending in "port"); wait for the relation to settle (`sigil wait`)');
    }
    const runtime = proxies();
    const listeners = await runtime.open(m, relation.id, targets, faults).catch((e: Error) => {
      throw new SigilError('unavailable', `cannot open a chaos proxy on ${runtime.listenHost}: ${e.message}`, 'free a port on that address, or try again');
    });
    const entry: ChaosEntry = { relationId: relation.id, key: relation.key, consumer: consumer.app, provider: provider.app, endpoint: consumer.name, faults, listeners, created: Date.now() };
    try {
      svc.chaos.put(m, entry);
    } catch (e) {
      await runtime.closeListeners(m, relation.id, listeners);
      throw e;
    }
    svc.wake();
    svc.log.info('chaos added', { model: m, relation: relation.key, faults });
    return entry;
  });

  on('POST /api/models/:model/chaos/remove', async (req) => {
    const m = model(req.params.model);
    const { relation } = svc.chaos.resolve(m, req.body.a, req.body.b);
    const entry = svc.chaos.get(m, relation.id);
    if (!entry || !svc.chaos.delete(m, relation.id)) throw new SigilError('not-found', `relation ${relation.key} is not under chaos`, 'see `sigil chaos list`');
    await svc.chaosProxies?.drain(m, relation.id, entry.listeners, entry.consumer, svc.store.revision());
    svc.wake();
    svc.log.info('chaos removed', { model: m, relation: relation.key });
    return { removed: relation.key };
  });

  /** MACHINE (an id), UNIT (its machine) or APP (all its units' machines) → their addresses on the bridge. */
  const addresses = (m: string, what: string): string[] => {
    const machinesOf = (): string[] => {
      if (what.includes('/')) {
        const unit = svc.reads.unit(m, what);
        if (!unit) throw new SigilError('not-found', `unit "${what}" not found in model ${m}`, 'name a unit as `sigil status` shows it, e.g. wordpress/1');
        if (unit.machine === null) throw new SigilError('conflict', `unit ${what} has no machine yet`, 'wait until it is placed (`sigil status`)');
        return [unit.machine];
      }
      if (!svc.reads.app(m, what)) throw new SigilError('not-found', `no machine, unit or application "${what}" in model ${m}`, 'name a machine id (as in `sigil status`), a unit or an application');
      return [...new Set(svc.reads.units(m, what).map((u) => u.machine).filter((x): x is string => x !== null))];
    };
    const ids = /^\d+$/.test(what) ? [what] : machinesOf();
    const out: string[] = [];
    for (const id of ids) {
      const machine = svc.reads.machine(m, id);
      if (!machine) throw new SigilError('not-found', `machine ${id} not found in model ${m}`, 'see `sigil status`');
      if (!machine.address) throw new SigilError('conflict', `machine ${id} has no address yet`, 'wait until it is started (`sigil status`)');
      out.push(machine.address);
    }
    if (out.length === 0) throw new SigilError('conflict', `application ${what} has no machine yet`, 'wait until its units are placed (`sigil status`)');
    return out;
  };
  const bridge = () => {
    const b = proxies().bridge;
    if (!b) throw new SigilError('unavailable', 'partitions need machines on an LXC bridge; this controller runs local-process machines', 'bootstrap a controller with --provider lxc');
    return b;
  };

  on('POST /api/models/:model/chaos/partition', async (req) => {
    const m = model(req.params.model);
    const b = bridge();
    const targets = addresses(m, req.body.target);
    const from = req.body.from === undefined ? [] : addresses(m, req.body.from);
    if (req.body.oneWay && from.length === 0) throw new SigilError('bad-request', '--one-way needs --from', 'for example: sigil chaos partition 1 --from 2 --one-way');
    if (from.length > 0 && targets.every((t) => from.includes(t))) throw new SigilError('bad-request', `${req.body.target} and ${req.body.from} are the same machines`, 'partition a machine from another one');
    await partition(b, { targets, from, ...(req.body.oneWay ? { oneWay: true } : {}), ...(req.body.forMs === undefined ? {} : { forSeconds: Math.round(req.body.forMs / 1000) }) });
    svc.log.info('chaos partition', { model: m, target: req.body.target, from: req.body.from ?? '(everything)', forMs: req.body.forMs ?? 0 });
    return { targets, from, forMs: req.body.forMs ?? null };
  });

  on('POST /api/models/:model/chaos/heal', async (req) => {
    model(req.params.model);
    await heal(bridge());
    svc.log.info('chaos healed', { model: req.params.model });
    return { healed: true };
  });

  on('GET /api/models/:model/chaos/partitions', async (req) => {
    model(req.params.model);
    return listPartitions(bridge());
  });

  on('POST /api/models/:model/chaos/reset', async (req) => {
    const m = model(req.params.model);
    const removed: string[] = [];
    for (const e of svc.chaos.list(m)) {
      if (!svc.chaos.delete(m, e.relationId)) continue;
      await svc.chaosProxies?.drain(m, e.relationId, e.listeners, e.consumer, svc.store.revision());
      removed.push(e.key);
    }
    svc.wake();
    return { removed };
  });
}

import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { SigilError } from '@sigil/core';
import type { Services } from '../services.ts';
import { checkFaults, type ChaosEntry } from '../domain/chaos.ts';

type M = { Params: { model: string } };

const Faults = Type.Object(
  {
    latencyMs: Type.Optional(Type.Integer({ minimum: 0 })),
    jitterMs: Type.Optional(Type.Integer({ minimum: 0 })),
    toxicity: Type.Optional(Type.Number()),
    down: Type.Optional(Type.Boolean()),
    httpError: Type.Optional(Type.Object({ status: Type.Integer(), rate: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
const ChaosAddRequest = Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }), faults: Faults }, { additionalProperties: false });
const ChaosRemoveRequest = Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
type ChaosAddRequest = Static<typeof ChaosAddRequest>;
type ChaosRemoveRequest = Static<typeof ChaosRemoveRequest>;

/**
 * Relation chaos (`sigil chaos add|list|remove|reset`). Adding opens the proxies first and
 * records them after; a failure on the way closes what was opened, so bad input or a port
 * that cannot be had changes nothing. Who may call: ROUTE_ACCESS (`write`: chaos changes
 * how the model behaves, as relating does).
 */
export function registerChaosRoutes(app: FastifyInstance, svc: Services): void {
  const model = (name: string) => svc.models.mustGet(name).name;
  const proxies = () => {
    if (!svc.chaosProxies) throw new SigilError('unavailable', 'this controller runs no chaos proxies', 'restart the controller with a build that has `sigil chaos`');
    return svc.chaosProxies;
  };

  app.get<M>('/api/models/:model/chaos', async (req): Promise<ChaosEntry[]> => svc.chaos.list(model(req.params.model)));

  app.post<M & { Body: ChaosAddRequest }>('/api/models/:model/chaos', { schema: { body: ChaosAddRequest } }, async (req): Promise<ChaosEntry> => {
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
    const listeners = await runtime.open(m, relation.id, targets, faults);
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

  app.post<M & { Body: ChaosRemoveRequest }>('/api/models/:model/chaos/remove', { schema: { body: ChaosRemoveRequest } }, async (req) => {
    const m = model(req.params.model);
    const { relation } = svc.chaos.resolve(m, req.body.a, req.body.b);
    if (!svc.chaos.delete(m, relation.id)) throw new SigilError('not-found', `relation ${relation.key} is not under chaos`, 'see `sigil chaos list`');
    svc.wake();
    svc.log.info('chaos removed', { model: m, relation: relation.key });
    return { removed: relation.key };
  });

  app.post<M>('/api/models/:model/chaos/reset', async (req) => {
    const m = model(req.params.model);
    const removed = svc.chaos.list(m).filter((e) => svc.chaos.delete(m, e.relationId)).map((e) => e.key);
    svc.wake();
    return { removed };
  });
}

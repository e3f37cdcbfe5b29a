import { Type } from '@sinclair/typebox';
import { route } from '../contract.ts';
import { ChaosAddRequest, ChaosEntry, ChaosPartitionRequest, ChaosPartitions, ChaosRemoveRequest } from '../chaos.ts';

/** Relation chaos and partitions (issue 17): it changes how the model behaves, as relating does. */
export const CHAOS_ROUTES = {
  'GET /api/models/:model/chaos': route({ access: 'read', response: Type.Array(ChaosEntry) }),
  'POST /api/models/:model/chaos': route({ access: 'write', body: ChaosAddRequest, response: ChaosEntry }),
  /** The answer names the relation taken out of chaos. */
  'POST /api/models/:model/chaos/remove': route({ access: 'write', body: ChaosRemoveRequest, response: Type.Object({ removed: Type.String() }, { additionalProperties: false }) }),
  'POST /api/models/:model/chaos/reset': route({ access: 'write', response: Type.Object({ removed: Type.Array(Type.String()) }, { additionalProperties: false }) }),
  /** The answer: the addresses cut off, those they are cut from (none: everything), and for how long (null: until healed). */
  'POST /api/models/:model/chaos/partition': route({
    access: 'write',
    body: ChaosPartitionRequest,
    response: Type.Object({ targets: Type.Array(Type.String()), from: Type.Array(Type.String()), forMs: Type.Union([Type.Integer(), Type.Null()]) }, { additionalProperties: false }),
  }),
  'POST /api/models/:model/chaos/heal': route({ access: 'write', response: Type.Object({ healed: Type.Literal(true) }, { additionalProperties: false }) }),
  'GET /api/models/:model/chaos/partitions': route({ access: 'read', response: ChaosPartitions }),
} as const;

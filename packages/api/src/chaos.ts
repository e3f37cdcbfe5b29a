import { Type, type Static } from '@sinclair/typebox';

/** The faults `sigil chaos add` puts on a relation (`POST /api/models/:model/chaos`). */
export const ChaosFaults = Type.Object(
  {
    /** Added to every response (downstream), in ms. */
    latencyMs: Type.Optional(Type.Integer({ minimum: 0 })),
    jitterMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Share of connections the toxics apply to (Toxiproxy's toxicity), 0..1. */
    toxicity: Type.Optional(Type.Number()),
    /** The proxy refuses connections, as if the provider were down. */
    down: Type.Optional(Type.Boolean()),
    /** HTTP status answered instead of forwarding, for `rate` of requests. */
    httpError: Type.Optional(Type.Object({ status: Type.Integer(), rate: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type ChaosFaults = Static<typeof ChaosFaults>;

/** One proxy listener: a provider unit's port, reached by the consumer through `listen`. */
export const ChaosListener = Type.Object({
  unit: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  listen: Type.String(),
}, { additionalProperties: false });
export type ChaosListener = Static<typeof ChaosListener>;

/** A relation under chaos, as `GET /api/models/:model/chaos` lists it. */
export const ChaosEntry = Type.Object({
  relationId: Type.Integer(),
  key: Type.String(),
  consumer: Type.String(),
  provider: Type.String(),
  endpoint: Type.String(),
  faults: ChaosFaults,
  listeners: Type.Array(ChaosListener),
  created: Type.Number(),
}, { additionalProperties: false });
export type ChaosEntry = Static<typeof ChaosEntry>;

/** `sigil chaos add A B`: the relation between A and B (applications or endpoints) and its faults. */
export const ChaosAddRequest = Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }), faults: ChaosFaults }, { additionalProperties: false });
export type ChaosAddRequest = Static<typeof ChaosAddRequest>;
export const ChaosRemoveRequest = Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
export type ChaosRemoveRequest = Static<typeof ChaosRemoveRequest>;

/** `sigil chaos partition TARGET`: cut a machine, unit or application off (from everything, or from `from`). */
export const ChaosPartitionRequest = Type.Object({
  target: Type.String({ maxLength: 200 }),
  from: Type.Optional(Type.String({ maxLength: 200 })),
  oneWay: Type.Optional(Type.Boolean()),
  forMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000 })),
}, { additionalProperties: false });
export type ChaosPartitionRequest = Static<typeof ChaosPartitionRequest>;

/** The partitions on the bridge now: addresses cut off from everything, and pairs cut from each other. */
export const ChaosPartitions = Type.Object({
  cut: Type.Array(Type.Object({ address: Type.String(), expiresSeconds: Type.Optional(Type.Number()) }, { additionalProperties: false })),
  pairs: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), expiresSeconds: Type.Optional(Type.Number()) }, { additionalProperties: false })),
}, { additionalProperties: false });
export type ChaosPartitions = Static<typeof ChaosPartitions>;

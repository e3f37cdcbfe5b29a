import { Type, type Static } from '@sinclair/typebox';
import type { ModelState } from '@sigil/core';
import { CharmSchema } from './charm.ts';
import { sameType } from './contract.ts';

/** @sigil/core's ModelState (bundle/types.ts) as a schema; checked below to be that very type. */
export const ModelStateSchema = Type.Object({
  applications: Type.Record(Type.String(), Type.Object({
    charmName: Type.String(),
    charmHash: Type.String(),
    /** Live units only (not dying). */
    units: Type.Array(Type.Object({ name: Type.String(), machine: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false })),
    /** Options the user set, not the charm defaults. */
    config: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    exposed: Type.Boolean(),
    constraints: Type.String(),
    annotations: Type.Record(Type.String(), Type.String()),
    subordinate: Type.Boolean(),
  }, { additionalProperties: false })),
  machines: Type.Array(Type.String()),
  /** Constraints and annotations of the machines that have any (export-bundle writes them). */
  machineSpecs: Type.Optional(Type.Record(Type.String(), Type.Object({
    constraints: Type.String(),
    annotations: Type.Record(Type.String(), Type.String()),
  }, { additionalProperties: false }))),
  /** One endpoint for a peer relation, two otherwise. */
  relations: Type.Array(Type.Object({
    endpoints: Type.Array(Type.Object({ app: Type.String(), name: Type.String() }, { additionalProperties: false })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

sameType<Static<typeof ModelStateSchema>, ModelState>();

/** GET /api/models/:model/bundle-state: the model as the bundle planner and exporter see it. */
export const BundleStateDoc = Type.Object({
  state: ModelStateSchema,
  /** Each application's charm (for relation inference and default options). */
  charms: Type.Record(Type.String(), CharmSchema),
  /** Where each application's charm was uploaded from, for export-bundle. */
  charmPaths: Type.Record(Type.String(), Type.String()),
}, { additionalProperties: false });
export type BundleStateDoc = Static<typeof BundleStateDoc>;

import { Type, type Static } from '@sinclair/typebox';
import type { ChaosFaults, ChaosListener } from './chaos.ts';
import { ActionSpecSchema, ConfigOptionSchema, EndpointSpecSchema } from './charm.ts';
import type { ActionSpec, CharmProvenance, ConfigOption, EndpointSpec } from '@sigil/core';

/**
 * The web GUI's view of a model and the deltas that keep it current (decision 0006). The
 * controller sends one snapshot, then only the entities that changed, each whole; the
 * browser never re-reads the model. Entities carry raw facts (agent and workload status,
 * machine presence); what the operator sees (a unit "lost", an application red) is
 * derived in the GUI by the same rules `sigil status` uses.
 */
export interface GuiStatus {
  current: string;
  message: string;
}

export interface GuiCharm {
  url: string;
  name: string;
  summary: string;
  subordinate: boolean;
  endpoints: EndpointSpec[];
  config: Record<string, ConfigOption>;
  actions: Record<string, ActionSpec>;
  /** The charm's icon.svg, if it has one (shown through <img>, where scripts never run). */
  icon?: string;
  /** Where a collected charm came from (its collect-info checked against the uploaded files). */
  provenance?: CharmProvenance;
}

export interface GuiApp {
  name: string;
  charmUrl: string;
  exposed: boolean;
  scale: number;
  life: string;
  annotations: Record<string, string>;
  /** The application status the leader set with `status-set --application`, if any. */
  status: GuiStatus | null;
  leader: string | null;
}

export interface GuiUnit {
  name: string;
  app: string;
  machine: string | null;
  principal: string | null;
  life: string;
  workload: GuiStatus;
  agent: GuiStatus;
  ports: string[];
  /** Where `expose` published the unit's ports on the host. */
  published: string[];
}

export interface GuiRelation {
  id: number;
  key: string;
  life: string;
  endpoints: { app: string; name: string; role: string; interface: string; scope: string }[];
  /** Faults `sigil chaos add` put on the relation, and the proxies its consumer reaches the provider through. */
  chaos?: { faults: ChaosFaults; listeners: ChaosListener[] };
}

export interface GuiMachine {
  id: string;
  address: string | null;
  /** Provisioned and its agent connected: otherwise its units show as lost. */
  up: boolean;
  status: GuiStatus;
}

export interface GuiModel {
  name: string;
  apps: Record<string, GuiApp>;
  units: Record<string, GuiUnit>;
  /** Keyed by relation id. */
  relations: Record<string, GuiRelation>;
  machines: Record<string, GuiMachine>;
  /** Keyed by charm URL. */
  charms: Record<string, GuiCharm>;
}

type Put<K extends string, V> = { kind: K; op: 'put'; value: V };

/** One entity now (whole) or gone. `operation` carries no value: it says an action's record changed. */
export type GuiDelta =
  | Put<'app', GuiApp>
  | Put<'unit', GuiUnit>
  | Put<'relation', GuiRelation>
  | Put<'machine', GuiMachine>
  | Put<'charm', GuiCharm>
  | { kind: 'operation'; op: 'put'; key: string }
  | { kind: 'app' | 'unit' | 'relation' | 'machine' | 'charm'; op: 'remove'; key: string };

/**
 * Messages on `/api/gui/watch?model=M[&since=REV]`: a snapshot first (or, when `since` is
 * still in the change log, the deltas missed since then), then deltas as commits happen.
 */
export type GuiMessage =
  | { type: 'snapshot'; rev: number; model: GuiModel }
  | { type: 'deltas'; rev: number; deltas: GuiDelta[] };

const guiCharmSummaryFields = {
  id: Type.String(),
  name: Type.String(),
  summary: Type.String(),
  source: Type.Union([Type.Literal('library'), Type.Literal('controller')]),
  interfaces: Type.Array(Type.String()),
  icon: Type.Optional(Type.String()),
  /** The revision the controller numbered this upload with (absent for a shipped library charm). */
  revision: Type.Optional(Type.Integer()),
  /**
   * Every uploaded revision of a charm of this name, newest first, each with the id that
   * deploys it (`sigil deploy NAME --revision N`); shadowed uploads included.
   */
  revisions: Type.Optional(Type.Array(Type.Object({ revision: Type.Integer(), id: Type.String() }, { additionalProperties: false }))),
};

/** A charm offered by the GUI's deploy search: from Sigil's charm library or already on the controller. */
export const GuiCharmSummary = Type.Object(guiCharmSummaryFields, { additionalProperties: false });
export type GuiCharmSummary = Static<typeof GuiCharmSummary>;

/** A charm's page in the GUI's deploy panel: its summary, documentation, endpoints, config and actions. */
export const GuiCharmPage = Type.Object({
  ...guiCharmSummaryFields,
  description: Type.String(),
  readme: Type.String(),
  subordinate: Type.Boolean(),
  endpoints: Type.Array(EndpointSpecSchema),
  config: Type.Record(Type.String(), ConfigOptionSchema),
  actions: Type.Record(Type.String(), ActionSpecSchema),
}, { additionalProperties: false });
export type GuiCharmPage = Static<typeof GuiCharmPage>;

/** What the GUI's deploy panel sends to add a charm to a model as a new application. */
export const GuiDeployRequest = Type.Object({
  charm: Type.String({ minLength: 1 }),
  app: Type.String({ minLength: 1 }),
  numUnits: Type.Integer({ minimum: 0 }),
  /** Typed values (the GUI validates them against config.yaml before sending). */
  config: Type.Record(Type.String(), Type.Unknown()),
  annotations: Type.Record(Type.String(), Type.String()),
}, { additionalProperties: false });
export type GuiDeployRequest = Static<typeof GuiDeployRequest>;

/** A bundle import: the plan of changes, each described as `sigil diff` prints it. */
export const GuiBundlePlan = Type.Object({
  changes: Type.Array(Type.String()),
  applications: Type.Array(Type.String()),
}, { additionalProperties: false });
export type GuiBundlePlan = Static<typeof GuiBundlePlan>;

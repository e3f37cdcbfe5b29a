/**
 * Rolling refresh (issue 18): an application moves to a new charm revision a batch of units
 * at a time, each batch drained from load balancers, upgraded, checked by a gate and put
 * back before the next. The roll-out is the controller's: the CLI starts it and watches it.
 */
import { Type, type Static } from '@sinclair/typebox';

/** What one unit of a roll-out is doing. */
export const RolloutUnitState = Type.Union([
  Type.Literal('pending'), Type.Literal('draining'), Type.Literal('upgrading'), Type.Literal('gating'), Type.Literal('undraining'), Type.Literal('done'),
  Type.Literal('halted'), Type.Literal('reverting'), Type.Literal('reverted'),
]);
export type RolloutUnitState = Static<typeof RolloutUnitState>;

export const RolloutStatus = Type.Union([Type.Literal('running'), Type.Literal('halted'), Type.Literal('done'), Type.Literal('rolled-back')]);
export type RolloutStatus = Static<typeof RolloutStatus>;

/** The step the current batch is at; `-wait` steps wait for the model to catch up. */
export const RolloutPhase = Type.Union([
  Type.Literal('drain'), Type.Literal('drain-wait'), Type.Literal('upgrade'), Type.Literal('upgrade-wait'), Type.Literal('gate'), Type.Literal('gate-wait'),
  Type.Literal('undrain'), Type.Literal('undrain-wait'), Type.Literal('pause'), Type.Literal('finish'),
]);
export type RolloutPhase = Static<typeof RolloutPhase>;

export const RolloutGate = Type.Object({
  /** A shell command run on each unit of the batch (as `sigil exec`); exit 0 passes. */
  command: Type.Optional(Type.String({ maxLength: 4096 })),
  /** An HTTP(S) URL fetched by the controller; `{address}` is replaced by each unit's address. A 2xx or 3xx answer passes. */
  http: Type.Optional(Type.String({ maxLength: 2048 })),
}, { additionalProperties: false });
export type RolloutGate = Static<typeof RolloutGate>;

export const StartRolloutRequest = Type.Object({
  charmUrl: Type.String({ minLength: 1, maxLength: 500 }),
  /** `N` units or `P%` of them per batch. */
  batch: Type.String({ minLength: 1, maxLength: 20 }),
  gate: RolloutGate,
  pauseMs: Type.Integer({ minimum: 0 }),
  haltOnError: Type.Boolean(),
  /** How long a batch may take to settle before the roll-out halts. */
  batchTimeoutMs: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });
export type StartRolloutRequest = Static<typeof StartRolloutRequest>;

export const RolloutDoc = Type.Object({
  id: Type.Integer(),
  app: Type.String(),
  status: RolloutStatus,
  direction: Type.Union([Type.Literal('forward'), Type.Literal('back')]),
  phase: RolloutPhase,
  /** Charm URLs the roll-out moves from and to. */
  from: Type.String(),
  to: Type.String(),
  batches: Type.Array(Type.Array(Type.String())),
  /** Index of the current batch in `batches` (forward) or of the batch being reverted (back). */
  batch: Type.Integer(),
  units: Type.Record(Type.String(), RolloutUnitState),
  /** Units out of load balancing now. */
  drained: Type.Array(Type.String()),
  gate: RolloutGate,
  pauseMs: Type.Integer(),
  haltOnError: Type.Boolean(),
  batchTimeoutMs: Type.Integer(),
  message: Type.String(),
  startedBy: Type.String(),
  started: Type.Number(),
  updated: Type.Number(),
  finished: Type.Optional(Type.Number()),
  /** Milliseconds each finished batch took, in order. */
  batchMs: Type.Array(Type.Number()),
  /** When the current phase and batch began (for timeouts, pauses and batch times). */
  phaseSince: Type.Number(),
  batchStarted: Type.Number(),
  /** How many times a gate has been started: a gate's outcome counts only for its own run. */
  gateRun: Type.Integer(),
}, { additionalProperties: false });
export type RolloutDoc = Static<typeof RolloutDoc>;

/**
 * An event of a day-2 operation, handed to the controller's notification hook (issue 18's
 * notifications subscribe there). Delivery never blocks the operation.
 */
export interface OperationEventNotice {
  event: RolloutEvent;
  model: string;
  application: string;
  /** Charm URLs before and after. */
  from: string;
  to: string;
  by: string;
  message: string;
  at: number;
}

/** The roll-out line `status` shows for an application. */
export const RolloutStatusDoc = Type.Object({
  status: RolloutStatus,
  direction: Type.Union([Type.Literal('forward'), Type.Literal('back')]),
  batch: Type.String(),
  phase: RolloutPhase,
  message: Type.Optional(Type.String()),
  from: Type.String(),
  to: Type.String(),
}, { additionalProperties: false });
export type RolloutStatusDoc = Static<typeof RolloutStatusDoc>;

export const ROLLOUT_EVENTS = ['refresh-started', 'refresh-finished', 'refresh-halted', 'refresh-rolled-back'] as const;
export type RolloutEvent = (typeof ROLLOUT_EVENTS)[number];

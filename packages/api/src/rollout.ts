/**
 * Rolling refresh (issue 18): an application moves to a new charm revision a batch of units
 * at a time, each batch drained from load balancers, upgraded, checked by a gate and put
 * back before the next. The roll-out is the controller's: the CLI starts it and watches it.
 */

/** What one unit of a roll-out is doing. */
export type RolloutUnitState =
  | 'pending' | 'draining' | 'upgrading' | 'gating' | 'undraining' | 'done'
  | 'halted' | 'reverting' | 'reverted';

export type RolloutStatus = 'running' | 'halted' | 'done' | 'rolled-back';

/** The step the current batch is at; `-wait` steps wait for the model to catch up. */
export type RolloutPhase =
  | 'drain' | 'drain-wait' | 'upgrade' | 'upgrade-wait' | 'gate' | 'gate-wait'
  | 'undrain' | 'undrain-wait' | 'pause' | 'finish';

export interface RolloutGate {
  /** A shell command run on each unit of the batch (as `sigil exec`); exit 0 passes. */
  command?: string;
  /** An HTTP(S) URL fetched by the controller; `{address}` is replaced by each unit's address. A 2xx or 3xx answer passes. */
  http?: string;
}

export interface StartRolloutRequest {
  charmUrl: string;
  /** `N` units or `P%` of them per batch. */
  batch: string;
  gate: RolloutGate;
  pauseMs: number;
  haltOnError: boolean;
  /** How long a batch may take to settle before the roll-out halts. */
  batchTimeoutMs: number;
}

export interface RolloutDoc {
  id: number;
  app: string;
  status: RolloutStatus;
  direction: 'forward' | 'back';
  phase: RolloutPhase;
  /** Charm URLs the roll-out moves from and to. */
  from: string;
  to: string;
  batches: string[][];
  /** Index of the current batch in `batches` (forward) or of the batch being reverted (back). */
  batch: number;
  units: Record<string, RolloutUnitState>;
  /** Units out of load balancing now. */
  drained: string[];
  gate: RolloutGate;
  pauseMs: number;
  haltOnError: boolean;
  batchTimeoutMs: number;
  message: string;
  startedBy: string;
  started: number;
  updated: number;
  finished?: number;
  /** Milliseconds each finished batch took, in order. */
  batchMs: number[];
  /** When the current phase and batch began (for timeouts, pauses and batch times). */
  phaseSince: number;
  batchStarted: number;
  /** How many times a gate has been started: a gate's outcome counts only for its own run. */
  gateRun: number;
}

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
export interface RolloutStatusDoc {
  status: RolloutStatus;
  direction: 'forward' | 'back';
  batch: string;
  phase: RolloutPhase;
  message?: string;
  from: string;
  to: string;
}

export const ROLLOUT_EVENTS = ['refresh-started', 'refresh-finished', 'refresh-halted', 'refresh-rolled-back'] as const;
export type RolloutEvent = (typeof ROLLOUT_EVENTS)[number];

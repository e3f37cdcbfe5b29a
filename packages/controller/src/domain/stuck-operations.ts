import { formatDuration } from '@sigil/core';

/** How long a machine's agent may be away before what it was running is given up. */
export const AGENT_LOST_MS = 90_000;
/** How long past its own timeout a command may stay without a result. */
export const EXEC_GRACE_MS = 60_000;

/** What decides whether an unfinished operation can still finish. */
export interface OperationFacts {
  id: number;
  unit: string;
  kind: 'action' | 'exec';
  status: 'pending' | 'running';
  started: number | undefined;
  timeoutMs: number | undefined;
  /** The unit's life, or undefined once the unit is gone. */
  unitLife: string | undefined;
  machine: string | undefined;
  /** How long the unit's machine agent has been disconnected (0 while connected). */
  agentAwayMs: number;
}

/**
 * Why an operation will never finish by itself, or undefined while it still can. A claimed
 * operation is never run again (it may not be safe to repeat), so it fails, saying why; a
 * pending one waits for its agent, as Juju queues actions, unless its unit is gone.
 */
export function stuckReason(op: OperationFacts, now: number): string | undefined {
  if (op.unitLife === undefined) return `unit ${op.unit} was removed before the operation finished`;
  if (op.status === 'pending') return op.unitLife === 'dead' ? `unit ${op.unit} died before the operation ran` : undefined;
  if (op.agentAwayMs >= AGENT_LOST_MS) {
    return `the agent of machine ${op.machine ?? '?'} lost contact while the operation ran (away ${formatDuration(op.agentAwayMs)}); it was not retried, run it again if needed`;
  }
  if (op.kind === 'exec' && op.timeoutMs !== undefined && op.started !== undefined && now - op.started > op.timeoutMs + EXEC_GRACE_MS) {
    return `no result ${formatDuration(now - op.started)} after the command started (its timeout was ${formatDuration(op.timeoutMs)}); the agent may have stopped`;
  }
  return undefined;
}

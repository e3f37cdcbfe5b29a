import type { StatusName } from './backend.ts';

/** A workload status a charm may set (Juju reserves `error` and `unknown` for itself). */
export interface Status {
  readonly name: StatusName;
  readonly message: string;
}

export const active = (message = ''): Status => ({ name: 'active', message });
export const blocked = (message: string): Status => ({ name: 'blocked', message });
export const waiting = (message: string): Status => ({ name: 'waiting', message });
export const maintenance = (message: string): Status => ({ name: 'maintenance', message });

/**
 * Thrown from a handler to end it with a status instead of a hook failure: a bad config
 * value is the operator's to fix (`blocked`), not a crash to retry.
 */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(`${status.name}: ${status.message}`);
    this.name = 'StatusError';
  }
}

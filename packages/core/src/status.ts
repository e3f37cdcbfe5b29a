/** Juju's status vocabularies (core/status/status.go). */
export type WorkloadStatus = 'active' | 'blocked' | 'waiting' | 'maintenance' | 'error' | 'unknown' | 'terminated';
export type AgentStatus = 'allocating' | 'executing' | 'idle' | 'error' | 'failed' | 'lost' | 'rebooting';
export type MachineAgentStatus = 'pending' | 'started' | 'stopped' | 'error' | 'down';
export type Life = 'alive' | 'dying' | 'dead';

/** Statuses a charm may set with status-set. */
export const SETTABLE_STATUSES = ['maintenance', 'blocked', 'waiting', 'active'] as const;
export type SettableStatus = (typeof SETTABLE_STATUSES)[number];

export interface StatusInfo<S extends string = string> {
  current: S;
  message: string;
  since: string;
  data?: Record<string, unknown>;
}

const SEVERITY: Record<string, number> = {
  error: 100,
  blocked: 90,
  maintenance: 80,
  waiting: 70,
  active: 60,
  terminated: 50,
  unknown: 40,
};

/** Application status derived as Juju does: the most severe unit workload status. */
export function deriveApplicationStatus<T extends { current: string }>(units: T[]): T | undefined {
  let worst: T | undefined;
  for (const u of units) {
    if (worst === undefined || (SEVERITY[u.current] ?? 0) > (SEVERITY[worst.current] ?? 0)) worst = u;
  }
  return worst;
}

import type { EndpointSpec } from '@sigil/core';
import type { GuiRelation } from '@sigil/api';

export interface RelateSide {
  app: string;
  subordinate: boolean;
  endpoints: readonly EndpointSpec[];
}

export interface EndpointPair {
  /** `app:endpoint` of each side, in the order the user dragged. */
  a: string;
  b: string;
  interface: string;
  /** Relations attaching a subordinate to its principal. */
  container: boolean;
}

const counterparts = (x: string, y: string) => (x === 'provider' && y === 'requirer') || (x === 'requirer' && y === 'provider');

/**
 * The relations the user may create by dragging from one application to another, by
 * Juju's rules (equal interface, provider to requirer, container scope only with a
 * subordinate), leaving out relations that already exist. `juju-info` pairs are offered
 * only when nothing more specific is, as `sigil integrate` infers.
 */
export function compatiblePairs(from: RelateSide, to: RelateSide, relations: readonly GuiRelation[]): EndpointPair[] {
  if (from.app === to.app) return [];
  const existing = new Set(relations.filter((r) => r.life === 'alive').map((r) => r.endpoints.map((e) => `${e.app}:${e.name}`).sort().join(' ')));
  const pairs: EndpointPair[] = [];
  for (const x of from.endpoints) {
    for (const y of to.endpoints) {
      if (x.interface !== y.interface || !counterparts(x.role, y.role)) continue;
      const container = x.scope === 'container' || y.scope === 'container';
      if (container && !from.subordinate && !to.subordinate) continue;
      const a = `${from.app}:${x.name}`;
      const b = `${to.app}:${y.name}`;
      if (existing.has([a, b].sort().join(' '))) continue;
      pairs.push({ a, b, interface: x.interface, container });
    }
  }
  const specific = pairs.filter((p) => p.interface !== 'juju-info');
  return specific.length > 0 ? specific : pairs;
}

import { SigilError } from '../errors.ts';
import type { CharmMeta, EndpointSpec, Role } from './types.ts';

/** Every charm provides `juju-info`, which is how generic subordinates attach to any principal. */
const JUJU_INFO: EndpointSpec = { name: 'juju-info', role: 'provider', interface: 'juju-info', optional: false, scope: 'global' };

/**
 * All endpoints of a charm: provides, requires and peers in file order, then the implicit
 * `juju-info` provider (unless a `juju-*` charm declares a provider of that name itself).
 * Lookups by name take the first match, so a declared endpoint wins over the implicit one.
 */
export function charmEndpoints(meta: CharmMeta): EndpointSpec[] {
  const declared = [...Object.values(meta.provides), ...Object.values(meta.requires), ...Object.values(meta.peers)];
  const implicit = declared.some((e) => e.name === JUJU_INFO.name && e.role === 'provider') ? [] : [{ ...JUJU_INFO }];
  return [...declared, ...implicit];
}

/** One side of `sigil integrate a[:endpoint] b[:endpoint]`. */
export interface AppEndpoints {
  app: string;
  /** The endpoint the user named, if any. */
  endpoint?: string;
  meta: CharmMeta;
}

export interface EndpointRef {
  app: string;
  spec: EndpointSpec;
}

// Relation keys list the requirer first, then the provider, then a peer (state/endpoint.go).
const ROLE_ORDER: Record<Role, number> = { requirer: 0, provider: 1, peer: 2 };

const refString = (r: EndpointRef): string => `${r.app}:${r.spec.name}`;

/**
 * The stable key of a relation: `app:endpoint` pairs joined by a space, requirer first,
 * then provider (`wordpress:db mysql:db`). A peer relation has a single endpoint, so pass
 * it alone (or twice).
 */
export function relationKey(a: EndpointRef, b?: EndpointRef): string {
  if (b === undefined || (refString(a) === refString(b) && a.spec.role === b.spec.role)) return refString(a);
  const [first, second] = ROLE_ORDER[a.spec.role] < ROLE_ORDER[b.spec.role] ||
    (a.spec.role === b.spec.role && refString(a) <= refString(b)) ? [a, b] : [b, a];
  return `${refString(first)} ${refString(second)}`;
}

function counterparts(x: Role, y: Role): boolean {
  return (x === 'provider' && y === 'requirer') || (x === 'requirer' && y === 'provider');
}

function describeEndpoints(side: AppEndpoints): string {
  const eps = charmEndpoints(side.meta).filter((e) => e.role !== 'peer');
  const verb = (e: EndpointSpec) => (e.role === 'provider' ? 'provides' : 'requires');
  const scope = (e: EndpointSpec) => (e.scope === 'container' ? ', container scope' : '');
  return `${side.app}${side.meta.subordinate ? ' (subordinate)' : ''}: ${eps.map((e) => `${e.name} (${verb(e)} ${e.interface}${scope(e)})`).join(', ')}`;
}

/** The endpoints of one side that may take part: the one the user named, or all but peers. */
function candidates(side: AppEndpoints): EndpointSpec[] {
  const all = charmEndpoints(side.meta);
  if (side.endpoint === undefined) return all.filter((e) => e.role !== 'peer');
  const named = all.find((e) => e.name === side.endpoint);
  const valid = all.filter((e) => e.role !== 'peer').map((e) => e.name);
  if (named === undefined) {
    throw new SigilError('invalid-endpoint', `application "${side.app}" has no "${side.endpoint}" relation`, `endpoints of ${side.app}: ${valid.join(', ')}`);
  }
  if (named.role === 'peer') {
    throw new SigilError(
      'invalid-endpoint',
      `"${side.app}:${named.name}" is a peer endpoint and cannot be related to another application`,
      `peer relations are created automatically when the application is deployed; endpoints of ${side.app} you can relate: ${valid.join(', ')}`,
    );
  }
  return [named];
}

const typed = (side: AppEndpoints): string => (side.endpoint === undefined ? side.app : `${side.app}:${side.endpoint}`);

/**
 * Juju's InferEndpoints for two applications: pairs of endpoints from different apps with
 * equal interfaces and counterpart roles (provider ↔ requirer; never peers). A
 * container-scoped pair needs at least one subordinate side. One candidate is the answer;
 * among several, `juju-info` ones are dropped; more than one left is ambiguous.
 *
 * Returns `[a's endpoint, b's endpoint]` in argument order. If either endpoint is
 * container-scoped the relation is, so both returned specs then carry `scope: 'container'`.
 */
export function inferRelation(a: AppEndpoints, b: AppEndpoints): [EndpointRef, EndpointRef] {
  const typedPair = `"${typed(a)} ${typed(b)}"`;
  if (a.app === b.app) {
    throw new SigilError('no-relation', `cannot relate application "${a.app}" to itself: ${typedPair}`, 'peer relations between units of one application are created automatically; relate it to a different application');
  }
  const left = candidates(a);
  const right = candidates(b);
  const pairs: [EndpointRef, EndpointRef][] = [];
  const needSubordinate: [EndpointRef, EndpointRef][] = [];
  for (const x of left) {
    for (const y of right) {
      if (x.interface !== y.interface || !counterparts(x.role, y.role)) continue;
      const pair: [EndpointRef, EndpointRef] = [{ app: a.app, spec: x }, { app: b.app, spec: y }];
      const container = x.scope === 'container' || y.scope === 'container';
      if (container && !a.meta.subordinate && !b.meta.subordinate) needSubordinate.push(pair);
      else pairs.push(pair);
    }
  }
  const byKey = (p: [EndpointRef, EndpointRef], q: [EndpointRef, EndpointRef]) => relationKey(...p).localeCompare(relationKey(...q));
  pairs.sort(byKey);

  if (pairs.length === 0) {
    const endpoints = `${describeEndpoints(a)}; ${describeEndpoints(b)}`;
    const blocked = needSubordinate[0];
    if (blocked !== undefined) {
      throw new SigilError(
        'no-relation',
        `no relations found between "${a.app}" and "${b.app}": "${relationKey(...blocked)}" is container-scoped, which needs at least one subordinate application`,
        `neither application is subordinate. Container-scoped relations attach a subordinate charm to a principal. Endpoints: ${endpoints}`,
      );
    }
    throw new SigilError(
      'no-relation',
      `no relations found between "${a.app}" and "${b.app}"`,
      `two endpoints can be related when they have the same interface and one provides what the other requires. Endpoints: ${endpoints}`,
    );
  }
  const nonJujuInfo = pairs.filter((p) => p[0].spec.interface !== 'juju-info');
  const chosen = pairs.length === 1 ? pairs[0] : nonJujuInfo.length === 1 ? nonJujuInfo[0] : undefined;
  if (chosen === undefined) {
    const options = nonJujuInfo.length > 0 ? nonJujuInfo : pairs;
    const first = options[0]!;
    throw new SigilError(
      'ambiguous-relation',
      `ambiguous relation: ${typedPair} could refer to ${options.map((p) => `"${relationKey(...p)}"`).join('; ')}`,
      `name the endpoints to choose one, e.g. "sigil integrate ${refString(first[0])} ${refString(first[1])}"`,
    );
  }
  const [x, y] = chosen;
  const scope = x.spec.scope === 'container' || y.spec.scope === 'container' ? 'container' : 'global';
  return [{ app: x.app, spec: { ...x.spec, scope } }, { app: y.app, spec: { ...y.spec, scope } }];
}

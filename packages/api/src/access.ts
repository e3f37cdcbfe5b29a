import { API, type ApiRoute } from './routes/index.ts';

/**
 * Who may call what: the table the API server authorises from, built from the API
 * contract's entries and the streams below. Every HTTP route and WebSocket stream is
 * listed by method and route *pattern* (as registered, not as a client spelled it); the
 * server refuses to start with a route missing here, and checks the role of the route it
 * matched, after routing, so no spelling of a path can reach a route under another
 * route's rules.
 *
 * Roles, as Juju's model access, held per model: `read` sees the model, `write` changes
 * applications, `admin` also grants access, destroys the model and runs commands as root on
 * units. A route needing one of these is about the model its `:model` parameter names (or,
 * for streams and routes without one, its `?model=` query); a user's role on *that* model
 * decides. `login` is any valid user (controller-level routes that show each user only what
 * it may see), `superuser` a controller admin (users, models, the controller, the audit
 * trail). `agent` is a machine's own credential, scoped further by each agent route to its
 * own units. `offer` is a consuming controller's credential for one offer of this controller
 * (offers across controllers). `public` needs no credential.
 */
export type Role = 'public' | 'agent' | 'login' | 'superuser' | 'read' | 'write' | 'admin' | 'offer';

/** A route may admit more than one kind of caller (the change feed serves agents and users). */
export type Access = Role | readonly Role[];

/**
 * The WebSocket streams (upgraded GET requests), matched on the exact path. Every HTTP
 * route's access is in its entry of the API contract (`routes/*.ts`).
 */
export const STREAM_ACCESS = {
  'WS /api/watch': ['agent', 'read'],
  'WS /api/logs': 'read',
  'WS /api/gui/watch': 'read',
} as const satisfies Record<string, Access>;

/** Who may call what, every route and stream: the contract's entries' access and the streams'. */
export const ROUTE_ACCESS: Readonly<Record<ApiRoute | keyof typeof STREAM_ACCESS, Access>> = {
  ...(Object.fromEntries(Object.entries(API).map(([key, spec]) => [key, spec.access])) as Record<ApiRoute, Access>),
  ...STREAM_ACCESS,
};

export type RouteKey = keyof typeof ROUTE_ACCESS;

/** The access declared for a route pattern (`GET /api/models/:model/status`) or stream (`WS /api/watch`), if any. */
export function routeAccess(method: string, pattern: string): Access | undefined {
  const key = `${method === 'HEAD' ? 'GET' : method} ${pattern}`;
  return Object.hasOwn(ROUTE_ACCESS, key) ? ROUTE_ACCESS[key as RouteKey] : undefined;
}

/** Roles in order of power: each admits the ones before it for a user. */
const USER_ROLES = ['read', 'write', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Whether a user holding `held` may call a route needing `needed`. */
export function userRoleAdmits(held: UserRole, needed: UserRole): boolean {
  return USER_ROLES.indexOf(held) >= USER_ROLES.indexOf(needed);
}

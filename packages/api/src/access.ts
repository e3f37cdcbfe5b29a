/**
 * Who may call what: the one table the API server authorises from. Every HTTP route and
 * WebSocket stream is listed by method and route *pattern* (as registered, not as a client
 * spelled it); the server refuses to start with a route missing here, and checks the role
 * of the route it matched, after routing, so no spelling of a path can reach a route under
 * another route's rules.
 *
 * Roles, as Juju's model access: `read` sees the model, `write` changes applications,
 * `admin` also manages models, the controller and runs commands as root on units. `agent`
 * is a machine's own credential, scoped further by each agent route to its own units.
 * `public` needs no credential.
 */
export type Role = 'public' | 'agent' | 'read' | 'write' | 'admin';

/** A route may admit more than one kind of caller (the change feed serves agents and users). */
export type Access = Role | readonly Role[];

export const ROUTE_ACCESS = {
  'GET /api/health': 'public',
  'GET /gui': 'public',
  'GET /gui/*': 'public',

  'GET /api/controller': 'read',
  'POST /api/controller/destroy': 'admin',
  'GET /api/models': 'read',
  'POST /api/models': 'admin',
  'DELETE /api/models/:model': 'admin',
  'GET /api/models/:model/config': 'read',
  'POST /api/models/:model/config': 'admin',
  'GET /api/models/:model/wait': 'read',
  'GET /api/models/:model/status': 'read',
  'GET /api/models/:model/unit': 'read',
  'GET /api/models/:model/bundle-state': 'read',
  'POST /api/models/:model/applications/:app/annotations': 'write',
  'POST /api/models/:model/applications/:app/constraints': 'write',
  'POST /api/models/:model/charms': 'write',
  'POST /api/models/:model/applications': 'write',
  'DELETE /api/models/:model/applications/:app': 'write',
  'GET /api/models/:model/applications/:app/config': 'read',
  'POST /api/models/:model/applications/:app/config': 'write',
  'POST /api/models/:model/applications/:app/refresh': 'write',
  'POST /api/models/:model/applications/:app/expose': 'write',
  'POST /api/models/:model/applications/:app/units': 'write',
  'POST /api/models/:model/units/remove': 'write',
  'POST /api/models/:model/resolve': 'write',
  'POST /api/models/:model/relations': 'write',
  'POST /api/models/:model/relations/remove': 'write',
  'POST /api/models/:model/actions': 'write',
  // Juju's `exec` runs arbitrary commands as root on the units: model admins only.
  'POST /api/models/:model/exec': 'admin',
  'GET /api/models/:model/operations/:id': 'read',
  'POST /api/models/:model/machines': 'write',
  'POST /api/models/:model/machines/remove': 'write',

  'GET /api/gui/charms': 'read',
  'GET /api/gui/charm': 'read',
  'POST /api/gui/models/:model/deploy': 'write',
  'GET /api/gui/models/:model/bundle': 'read',
  'POST /api/gui/models/:model/bundle/plan': 'read',
  'POST /api/gui/models/:model/bundle/apply': 'write',

  'GET /api/agent/view': 'agent',
  'GET /api/agent/charms/:hash': 'agent',
  'POST /api/agent/status': 'agent',
  'POST /api/agent/commit': 'agent',
  'POST /api/agent/scope': 'agent',
  'POST /api/agent/settled': 'agent',
  'POST /api/agent/dead': 'agent',
  'POST /api/agent/operations/:id/start': 'agent',
  'POST /api/agent/operations/:id/finish': 'agent',
  'POST /api/agent/operations/:id/log': 'agent',
  'POST /api/agent/logs': 'agent',

  // WebSocket streams (upgraded GET requests), matched on the exact path.
  'WS /api/watch': ['agent', 'read'],
  'WS /api/logs': 'read',
  'WS /api/gui/watch': 'read',
} as const satisfies Record<string, Access>;

export type RouteKey = keyof typeof ROUTE_ACCESS;

/** The access declared for a route pattern (`GET /api/models/:model/status`), if any. */
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

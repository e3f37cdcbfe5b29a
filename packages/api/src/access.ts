import { API, isApiRoute } from './routes/index.ts';

/**
 * Who may call what: the one table the API server authorises from. Every HTTP route and
 * WebSocket stream is listed by method and route *pattern* (as registered, not as a client
 * spelled it); the server refuses to start with a route missing here, and checks the role
 * of the route it matched, after routing, so no spelling of a path can reach a route under
 * another route's rules.
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

export const ROUTE_ACCESS = {
  'GET /api/health': 'public',
  'GET /gui': 'public',
  'GET /gui/*': 'public',

  // Users, their sessions and their access (issue 12). Login and register check their own
  // secret (a password, a one-time key); changing another user's password needs a superuser
  // (checked by the route: a user may change its own).
  'GET /api/ca': 'public',
  'POST /api/login': 'public',
  'POST /api/register': 'public',
  'POST /api/login/refresh': 'login',
  'POST /api/logout': 'login',
  'GET /api/whoami': 'login',
  'GET /api/users': 'login',
  'POST /api/users': 'superuser',
  'DELETE /api/users/:user': 'superuser',
  'POST /api/users/:user/disable': 'superuser',
  'POST /api/users/:user/enable': 'superuser',
  'POST /api/users/:user/reset': 'superuser',
  'POST /api/users/:user/password': 'login',
  'POST /api/models/:model/access': 'admin',
  'GET /api/audit': 'superuser',
  'GET /api/controller/config': 'superuser',
  'POST /api/controller/config': 'superuser',

  // Controller backups hold every secret of the controller (its CA key, the secrets key):
  // controller admins only. Notifications and the backup store are controller settings.
  'POST /api/backups': 'superuser',
  'GET /api/backups': 'superuser',
  'GET /api/backups/:name': 'superuser',
  // Re-pointing every machine's agent (after a restore at a new address) is a controller admin's.
  'POST /api/controller/migrate-agents': 'superuser',
  'GET /api/controller/agents': 'superuser',
  'GET /api/backup-store': 'superuser',
  'POST /api/backup-store': 'superuser',
  'GET /api/notify': 'superuser',
  'POST /api/notify': 'superuser',
  'DELETE /api/notify/:name': 'superuser',
  'GET /api/controller': 'login',
  'POST /api/controller/destroy': 'superuser',
  'GET /api/models': 'login',
  'POST /api/models': 'superuser',
  'DELETE /api/models/:model': 'admin',
  'GET /api/models/:model/config': 'read',
  'POST /api/models/:model/config': 'admin',
  'GET /api/models/:model/wait': 'read',
  'GET /api/models/:model/status': 'read',
  'GET /api/models/:model/unit': 'read',
  'GET /api/models/:model/status-history': 'read',
  'GET /api/models/:model/bundle-state': 'read',
  'POST /api/models/:model/applications/:app/annotations': 'write',
  'POST /api/models/:model/applications/:app/constraints': 'write',
  'POST /api/models/:model/charms': 'write',
  'POST /api/models/:model/applications': 'write',
  'DELETE /api/models/:model/applications/:app': 'write',
  'GET /api/models/:model/applications/:app/config': 'read',
  'POST /api/models/:model/applications/:app/config': 'write',
  'POST /api/models/:model/applications/:app/refresh': 'write',
  // Rolling refresh (issue 18); a roll-out with a command gate needs admin (checked by the route).
  'POST /api/models/:model/applications/:app/rollout': 'write',
  'GET /api/models/:model/applications/:app/rollout': 'read',
  'POST /api/models/:model/applications/:app/rollout/resume': 'write',
  'POST /api/models/:model/applications/:app/rollout/rollback': 'write',
  'POST /api/models/:model/applications/:app/expose': 'write',
  'POST /api/models/:model/applications/:app/units': 'write',
  'POST /api/models/:model/units/remove': 'write',
  'POST /api/models/:model/resolve': 'write',
  'POST /api/models/:model/relations': 'write',
  'POST /api/models/:model/relations/remove': 'write',
  // Relation chaos (issue 17): it changes how the model behaves, as relating does.
  'GET /api/models/:model/chaos': 'read',
  'POST /api/models/:model/chaos': 'write',
  'POST /api/models/:model/chaos/remove': 'write',
  'POST /api/models/:model/chaos/reset': 'write',
  'POST /api/models/:model/chaos/partition': 'write',
  'POST /api/models/:model/chaos/heal': 'write',
  'GET /api/models/:model/chaos/partitions': 'read',
  'POST /api/models/:model/actions': 'write',
  // Scheduled actions and unit restores (issue 18) run actions, as `sigil run` does.
  'GET /api/models/:model/schedules': 'read',
  'POST /api/models/:model/schedules': 'write',
  'DELETE /api/models/:model/schedules/:name': 'write',
  'POST /api/models/:model/schedules/:name/run': 'write',
  'GET /api/models/:model/snapshots': 'read',
  'POST /api/models/:model/restore-unit': 'write',
  // Juju's `exec` runs arbitrary commands as root on the units: model admins only.
  'POST /api/models/:model/exec': 'admin',
  'GET /api/models/:model/operations/:id': 'read',
  'POST /api/models/:model/machines': 'write',
  'POST /api/models/:model/machines/remove': 'write',
  // Enlisting a host over ssh hands the caller the new machine's agent credential (to be
  // written on the host): model admins only.
  'POST /api/models/:model/machines/enlist': 'admin',
  // A key in the model is root on every machine: listing is read, changing it admin. `sigil
  // ssh` asks where to connect with write (Juju lets model writers ssh), so read users are
  // refused before they try. Rotating an agent's credential is for model admins.
  'GET /api/models/:model/ssh-keys': 'read',
  'POST /api/models/:model/ssh-keys': 'admin',
  'POST /api/models/:model/ssh-keys/remove': 'admin',
  'GET /api/models/:model/ssh-address': 'write',
  // debug-hooks connects as ssh does, so it is asked with the same role.
  'GET /api/models/:model/debug-hooks': 'write',
  'POST /api/models/:model/machines/:id/rotate-credential': 'admin',
  'GET /api/models/:model/machines/:id/rotate-credential': 'admin',
  // User secrets (Juju 3.3): anyone who reads the model sees their metadata; values only
  // with `show-secret --reveal`, which the route admits for model admins only.
  'GET /api/models/:model/secrets': 'read',
  'POST /api/models/:model/secrets': 'admin',
  'GET /api/models/:model/secrets/:secret': 'read',
  'POST /api/models/:model/secrets/:secret': 'admin',
  'DELETE /api/models/:model/secrets/:secret': 'admin',
  'POST /api/models/:model/secrets/:secret/grant': 'admin',
  'POST /api/models/:model/secrets/:secret/revoke': 'admin',

  // Software inventory (issue 19): reading a model's inventory is read; asking its agents
  // to collect is write (it only reads the machines). The fingerprint index is shared by
  // every model: any user may list it, controller admins grow it.
  'GET /api/models/:model/inventory': 'read',
  'GET /api/models/:model/inventory/units': 'read',
  'POST /api/models/:model/inventory/collect': 'write',
  'GET /api/inventory/index': 'login',
  'POST /api/inventory/index': 'superuser',
  'POST /api/inventory/index/remove': 'superuser',
  // Storage and resources (issue 20): changing them changes the model, as deploying does.
  'GET /api/models/:model/storage': 'read',
  'GET /api/models/:model/storage-pools': 'read',
  'POST /api/models/:model/storage/add': 'write',
  'POST /api/models/:model/storage/attach': 'write',
  'POST /api/models/:model/storage/detach': 'write',
  'POST /api/models/:model/storage/remove': 'write',
  'GET /api/models/:model/applications/:app/resources': 'read',
  'POST /api/models/:model/applications/:app/resources': 'write',

  // Offers across models (issue 20). Offering needs admin on the offering model; find-offers,
  // show-offer, remove-offer and offer grants are controller-level and each route lets a user
  // see or change only the offers of models it administers (or was granted, for find/show);
  // consuming needs write on the consuming model and consume access to the offer (checked by the route).
  'POST /api/models/:model/offers': 'admin',
  'GET /api/offers': 'login',
  'POST /api/offers/show': 'login',
  'POST /api/offers/remove': 'login',
  'POST /api/offers/grant': 'login',
  'POST /api/offers/revoke': 'login',
  'POST /api/models/:model/consume': 'write',
  'POST /api/models/:model/saas/remove': 'write',
  // Offers across controllers: the offering controller mints a credential for one offer
  // (the route checks consume access); the consuming model takes it (write, as consume); the
  // consuming controller's worker registers and exchanges relations with that credential.
  'POST /api/offers/consumer-token': 'login',
  'POST /api/models/:model/consume-remote': 'write',
  'POST /api/remote-relations': 'offer',
  'POST /api/remote-relations/:id/sync': 'offer',

  'GET /api/gui/charms': 'login',
  'GET /api/gui/charm': 'login',
  'GET /api/gui/charm/archive': 'login',
  // The GUI logs in like a web app: `sigil gui` asks for a one-time code for its own user; the
  // page trades it (or a user name and password: the route checks them) for a session
  // cookie, and logs out. A session cookie authenticates no route an agent may call.
  'POST /api/gui/login-code': 'login',
  'POST /api/gui/session': 'public',
  'DELETE /api/gui/session': 'public',
  'POST /api/gui/models/:model/deploy': 'write',
  'GET /api/gui/models/:model/bundle': 'read',
  'POST /api/gui/models/:model/bundle/plan': 'read',
  'POST /api/gui/models/:model/bundle/apply': 'write',

  'GET /api/agent/view': 'agent',
  'GET /api/agent/controllers': 'agent',
  'GET /api/agent/charms/:hash': 'agent',
  'POST /api/agent/status': 'agent',
  'POST /api/agent/commit': 'agent',
  'POST /api/agent/goal-state': 'agent',
  'POST /api/agent/scope': 'agent',
  'POST /api/agent/settled': 'agent',
  'POST /api/agent/dead': 'agent',
  'POST /api/agent/operations/:id/start': 'agent',
  'POST /api/agent/operations/:id/finish': 'agent',
  'POST /api/agent/operations/:id/log': 'agent',
  'POST /api/agent/logs': 'agent',
  'POST /api/agent/credential': 'agent',
  'POST /api/agent/uninstalled': 'agent',
  // A host's agent creates and destroys the LXC containers placed on its machine (issue 13).
  'POST /api/agent/containers/provision': 'agent',
  'POST /api/agent/containers/provisioned': 'agent',
  'POST /api/agent/containers/failed': 'agent',
  'POST /api/agent/containers/removed': 'agent',
  // The content of the secrets the calling unit owns or was granted (never anyone else's).
  'POST /api/agent/secrets/content': 'agent',
  // A unit's software inventory, collected on its machine.
  'POST /api/agent/audit': 'agent',
  'POST /api/agent/audit/packages': 'agent',
  // A unit's storage reports, and its own application's resource content (issue 20).
  'POST /api/agent/storage': 'agent',
  'POST /api/agent/resources': 'agent',

  // WebSocket streams (upgraded GET requests), matched on the exact path.
  'WS /api/watch': ['agent', 'read'],
  'WS /api/logs': 'read',
  'WS /api/gui/watch': 'read',
} as const satisfies Record<string, Access>;

export type RouteKey = keyof typeof ROUTE_ACCESS;

/** The access declared for a route pattern (`GET /api/models/:model/status`), if any: the API contract's, else the table's. */
export function routeAccess(method: string, pattern: string): Access | undefined {
  const key = `${method === 'HEAD' ? 'GET' : method} ${pattern}`;
  if (isApiRoute(key)) return API[key].access;
  return Object.hasOwn(ROUTE_ACCESS, key) ? ROUTE_ACCESS[key as RouteKey] : undefined;
}

/** Roles in order of power: each admits the ones before it for a user. */
const USER_ROLES = ['read', 'write', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Whether a user holding `held` may call a route needing `needed`. */
export function userRoleAdmits(held: UserRole, needed: UserRole): boolean {
  return USER_ROLES.indexOf(held) >= USER_ROLES.indexOf(needed);
}

import { Type, type Static } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import { AuditRecord, ControllerConfig } from '../audit.ts';

const NAME = Type.String({ minLength: 1, maxLength: 128 });
const SECRET = Type.String({ minLength: 1, maxLength: 1024 });

/** A user's role on one model, as Juju's model access. */
export const ModelRole = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')]);
export type ModelRole = Static<typeof ModelRole>;

/** A login session (`sigil login`, `sigil register`): the token is sent once, the controller keeps only its hash. */
export const UserSession = Type.Object({
  user: Type.String(),
  superuser: Type.Boolean(),
  controller: Type.String(),
  token: Type.String(),
  /** ISO 8601. */
  expires: Type.String(),
}, { additionalProperties: false });
export type UserSession = Static<typeof UserSession>;

/** A one-time registration key for a user (`sigil add-user`, `change-user-password --reset`), sent once. */
export const UserRegistration = Type.Object({
  user: Type.String(),
  controller: Type.String(),
  key: Type.String(),
  /** ISO 8601. */
  expires: Type.String(),
}, { additionalProperties: false });
export type UserRegistration = Static<typeof UserRegistration>;

/** What `sigil users` shows of a user. */
export const UserView = Type.Object({
  name: Type.String(),
  'display-name': Type.String(),
  access: Type.Union([Type.Literal('superuser'), Type.Literal('login')]),
  disabled: Type.Boolean(),
  /** Whether the user has set a password (`sigil register`). */
  registered: Type.Boolean(),
  'created-by': Type.String(),
  /** ISO 8601. */
  created: Type.String(),
  /** ISO 8601; null until the user first logs in. */
  'last-connection': Type.Union([Type.String(), Type.Null()]),
  /** The user's role on each model it may use. */
  models: Type.Record(Type.String(), ModelRole),
}, { additionalProperties: false });
export type UserView = Static<typeof UserView>;

/** Who is logged in (`GET /api/whoami`): superusers may do anything, others what each model grants. */
export const WhoAmI = Type.Object({
  user: Type.String(),
  'display-name': Type.String(),
  superuser: Type.Boolean(),
  controller: Type.String(),
  models: Type.Record(Type.String(), ModelRole),
}, { additionalProperties: false });
export type WhoAmI = Static<typeof WhoAmI>;

/** A user disabled or enabled again (`sigil disable-user`, `sigil enable-user`). */
const UserDisabled = Type.Object({ user: Type.String(), disabled: Type.Boolean() }, { additionalProperties: false });

/**
 * Users, their sessions and their access (issue 12), the audit trail and the controller's
 * configuration.
 */
export const USERS_ROUTES = {
  // The controller's CA, for `sigil register` to check against the fingerprint it was given.
  'GET /api/ca': route({
    access: 'public',
    response: Type.Object({ 'ca-cert': Type.String(), fingerprint: Type.String() }, { additionalProperties: false }),
  }),
  // Login and register check their own secret (a password, a one-time key).
  'POST /api/login': route({
    access: 'public',
    body: Type.Object({ user: NAME, password: SECRET }, { additionalProperties: false }),
    response: UserSession,
  }),
  'POST /api/register': route({
    access: 'public',
    body: Type.Object({ key: SECRET, password: SECRET }, { additionalProperties: false }),
    response: UserSession,
  }),
  'POST /api/login/refresh': route({ access: 'login', response: UserSession }),
  'POST /api/logout': route({ access: 'login', response: Ok }),
  'GET /api/whoami': route({ access: 'login', response: WhoAmI }),
  // A user who is not a controller admin sees only itself.
  'GET /api/users': route({ access: 'login', response: Type.Array(UserView) }),
  'POST /api/users': route({
    access: 'superuser',
    body: Type.Object({ name: NAME, displayName: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
    response: UserRegistration,
  }),
  'DELETE /api/users/:user': route({ access: 'superuser', response: Ok }),
  'POST /api/users/:user/disable': route({ access: 'superuser', response: UserDisabled }),
  'POST /api/users/:user/enable': route({ access: 'superuser', response: UserDisabled }),
  'POST /api/users/:user/reset': route({ access: 'superuser', response: UserRegistration }),
  // Changing another user's password needs a superuser (checked by the route: a user may change its own).
  'POST /api/users/:user/password': route({
    access: 'login',
    body: Type.Object({ password: SECRET }, { additionalProperties: false }),
    response: Ok,
  }),
  'POST /api/models/:model/access': route({
    access: 'admin',
    body: Type.Object({
      user: NAME,
      // Checked by the route, which names an unknown role.
      role: Type.String({ maxLength: 16 }),
      action: Type.Union([Type.Literal('grant'), Type.Literal('revoke')]),
    }, { additionalProperties: false }),
    // `access`: the user's role on the model now; null when it has none left.
    response: Type.Object({ user: Type.String(), model: Type.String(), access: Type.Union([ModelRole, Type.Null()]) }, { additionalProperties: false }),
  }),
  'GET /api/audit': route({
    access: 'superuser',
    // `since` (epoch ms) and `limit` are checked by the route, which names a bad value.
    query: Type.Object({
      user: Type.Optional(Type.String()),
      model: Type.Optional(Type.String()),
      since: Type.Optional(Type.String()),
      limit: Type.Optional(Type.String()),
    }),
    response: Type.Array(AuditRecord),
  }),
  'GET /api/controller/config': route({ access: 'superuser', response: ControllerConfig }),
  // The route refuses an unknown key or a bad value by name.
  'POST /api/controller/config': route({
    access: 'superuser',
    body: Type.Record(Type.String(), Type.String({ maxLength: 64 })),
    response: ControllerConfig,
  }),
} as const;

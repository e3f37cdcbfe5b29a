import { Type, type Static } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';

/** A model's key as `ssh-keys` shows it. */
export const SshKeyDoc = Type.Object({
  fingerprint: Type.String(),
  comment: Type.String(),
  key: Type.String(),
  /** `<fingerprint> (<comment>)`, Juju's line. */
  text: Type.String(),
  addedBy: Type.String(),
}, { additionalProperties: false });
export type SshKeyDoc = Static<typeof SshKeyDoc>;

/** What `sigil debug-hooks` needs before it connects: the unit's machine and the hook and action names its charm has. */
export const DebugHooksTarget = Type.Object({
  unit: Type.String(),
  model: Type.String(),
  machine: Type.String(),
  address: Type.String(),
  hooks: Type.Array(Type.String()),
  actions: Type.Array(Type.String()),
}, { additionalProperties: false });
export type DebugHooksTarget = Static<typeof DebugHooksTarget>;

/**
 * SSH access. A key in the model is root on every machine: listing is read, changing it
 * admin. `sigil ssh` asks where to connect with write (Juju lets model writers ssh), so read
 * users are refused before they try. Rotating an agent's credential is for model admins.
 */
export const SSH_KEYS_ROUTES = {
  'GET /api/models/:model/ssh-keys': route({ access: 'read', response: Type.Array(SshKeyDoc) }),
  'POST /api/models/:model/ssh-keys': route({
    access: 'admin',
    body: Type.Object({ keys: Type.Array(Type.String({ maxLength: 16384 }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
    response: Type.Array(SshKeyDoc),
  }),
  /** Keys named by fingerprint or comment; the answer is the keys removed. */
  'POST /api/models/:model/ssh-keys/remove': route({
    access: 'admin',
    body: Type.Object({ names: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
    response: Type.Array(SshKeyDoc),
  }),
  /** The address `sigil ssh` and `sigil scp` connect to: a unit's machine (`target=app/N`), or a machine (`target=N`). */
  'GET /api/models/:model/ssh-address': route({
    access: 'write',
    query: Type.Object({ target: Type.Optional(Type.String()) }),
    response: Type.Object({ address: Type.String(), machine: Type.String() }, { additionalProperties: false }),
  }),
  // debug-hooks connects as ssh does, so it is asked with the same role.
  'GET /api/models/:model/debug-hooks': route({ access: 'write', query: Type.Object({ unit: Type.Optional(Type.String()) }), response: DebugHooksTarget }),
  'POST /api/models/:model/machines/:id/rotate-credential': route({ access: 'admin', response: Ok }),
  /** Whether the agent has taken its new credential yet (the old one works until it has). */
  'GET /api/models/:model/machines/:id/rotate-credential': route({ access: 'admin', response: Type.Object({ pending: Type.Boolean() }, { additionalProperties: false }) }),
} as const;

import { Type } from '@sinclair/typebox';
import { Bytes, Ok, route } from '../contract.ts';
import { CharmArchiveFile } from '../charm.ts';
import { GuiBundlePlan, GuiCharmPage, GuiCharmSummary, GuiDeployRequest } from '../gui.ts';

const YAML_BODY = Type.Object({ yaml: Type.String({ minLength: 1 }) }, { additionalProperties: false });

/**
 * The web GUI: its static files, its login, its charm search, deploy and bundle routes (its
 * delta stream is a WebSocket, `WS /api/gui/watch`).
 */
export const GUI_ROUTES = {
  // The page and its assets (`/gui` redirects to `/gui/`); the page then logs in.
  'GET /gui': route({ access: 'public', response: Bytes }),
  'GET /gui/*': route({ access: 'public', response: Bytes }),

  'GET /api/gui/charms': route({ access: 'login', query: Type.Object({ q: Type.Optional(Type.String()) }), response: Type.Array(GuiCharmSummary) }),
  'GET /api/gui/charm': route({ access: 'login', query: Type.Object({ id: Type.Optional(Type.String()) }), response: GuiCharmPage }),
  // A library charm's files, for `sigil deploy bundle.yaml` naming it (`charm: postgresql`): the CLI plans with them and uploads them.
  'GET /api/gui/charm/archive': route({
    access: 'login',
    query: Type.Object({ id: Type.Optional(Type.String()) }),
    response: Type.Object({ files: Type.Array(CharmArchiveFile), source: Type.String() }, { additionalProperties: false }),
  }),

  // The GUI logs in like a web app: `sigil gui` asks for a one-time code for its own user; the
  // page trades it (or a user name and password: the route checks them) for a session
  // cookie, and logs out. A session cookie authenticates no route an agent may call.
  'POST /api/gui/login-code': route({
    access: 'login',
    response: Type.Object({ code: Type.String(), user: Type.String(), expires: Type.String() }, { additionalProperties: false }),
  }),
  'POST /api/gui/session': route({
    access: 'public',
    // One schema, not oneOf: fastify's validator strips unknown properties while it tries each branch.
    body: Type.Object({
      code: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      user: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    }, { additionalProperties: false }),
    // The session token itself travels only in the cookie.
    response: Type.Object({ user: Type.String(), expires: Type.String() }, { additionalProperties: false }),
  }),
  'DELETE /api/gui/session': route({ access: 'public', response: Ok }),

  'POST /api/gui/models/:model/deploy': route({
    access: 'write',
    body: GuiDeployRequest,
    response: Type.Object({ app: Type.String() }, { additionalProperties: false }),
  }),
  // The model as bundle YAML.
  'GET /api/gui/models/:model/bundle': route({ access: 'read', response: Bytes }),
  // Planning an import changes nothing.
  'POST /api/gui/models/:model/bundle/plan': route({ access: 'read', body: YAML_BODY, response: GuiBundlePlan }),
  'POST /api/gui/models/:model/bundle/apply': route({
    access: 'write',
    body: YAML_BODY,
    response: Type.Object({ changes: Type.Array(Type.String()) }, { additionalProperties: false }),
  }),
} as const;

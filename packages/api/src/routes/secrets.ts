import { Type } from '@sinclair/typebox';
import { Ok, route } from '../contract.ts';
import { AddSecretRequest, SecretAppsRequest, SecretContentRequest, SecretContentResponse, SecretMetadata, SecretSummary, UpdateSecretRequest } from '../secrets.ts';

/**
 * Secrets. User secrets (Juju 3.3): anyone who reads the model sees their metadata; values
 * only with `show-secret --reveal`, which the route admits for model admins only. No other
 * answer carries a value, and the schemas say so.
 */
export const SECRETS_ROUTES = {
  'GET /api/models/:model/secrets': route({ access: 'read', response: Type.Array(SecretMetadata) }),
  'POST /api/models/:model/secrets': route({ access: 'admin', body: AddSecretRequest, response: Type.Object({ uri: Type.String() }, { additionalProperties: false }) }),
  'GET /api/models/:model/secrets/:secret': route({
    access: 'read',
    // `reveal=true` (admins only), `revisions=true`, and `revision=N` for the values `reveal` shows.
    query: Type.Object({ reveal: Type.Optional(Type.String()), revisions: Type.Optional(Type.String()), revision: Type.Optional(Type.String()) }),
    response: SecretSummary,
  }),
  'POST /api/models/:model/secrets/:secret': route({ access: 'admin', body: UpdateSecretRequest, response: Ok }),
  'DELETE /api/models/:model/secrets/:secret': route({ access: 'admin', query: Type.Object({ revision: Type.Optional(Type.String()) }), response: Ok }),
  'POST /api/models/:model/secrets/:secret/grant': route({ access: 'admin', body: SecretAppsRequest, response: Ok }),
  'POST /api/models/:model/secrets/:secret/revoke': route({ access: 'admin', body: SecretAppsRequest, response: Ok }),
  // The content of the secrets the calling unit owns or was granted (never anyone else's).
  'POST /api/agent/secrets/content': route({ access: 'agent', body: SecretContentRequest, response: SecretContentResponse }),
} as const;

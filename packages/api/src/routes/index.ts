import type { InputOf, ResponseOf } from '../contract.ts';
import { CLIENT_ROUTES } from './client.ts';
import { USERS_ROUTES } from './users.ts';
import { GUI_ROUTES } from './gui.ts';
import { AGENT_ROUTES } from './agent.ts';
import { CONTAINERS_ROUTES } from './containers.ts';
import { OPS_ROUTES } from './ops.ts';
import { ROLLOUT_ROUTES } from './rollout.ts';
import { CHAOS_ROUTES } from './chaos.ts';
import { SSH_KEYS_ROUTES } from './ssh-keys.ts';
import { SECRETS_ROUTES } from './secrets.ts';
import { INVENTORY_ROUTES } from './inventory.ts';
import { STORAGE_ROUTES } from './storage.ts';
import { OFFERS_ROUTES } from './offers.ts';
import { BACKUPS_ROUTES } from './backups.ts';

export * from './client.ts';
export * from './users.ts';
export * from './gui.ts';
export * from './agent.ts';
export * from './containers.ts';
export * from './ops.ts';
export * from './rollout.ts';
export * from './chaos.ts';
export * from './ssh-keys.ts';
export * from './secrets.ts';
export * from './inventory.ts';
export * from './storage.ts';
export * from './offers.ts';
export * from './backups.ts';

/**
 * Every HTTP route of the controller's API, by `METHOD /path` (the route's pattern as the
 * server registers it): who may call it and the schemas of what goes in and comes out
 * (contract.ts). The server registers each route from here and refuses one that is not.
 */
export const API = {
  ...CLIENT_ROUTES,
  ...USERS_ROUTES,
  ...GUI_ROUTES,
  ...AGENT_ROUTES,
  ...CONTAINERS_ROUTES,
  ...OPS_ROUTES,
  ...ROLLOUT_ROUTES,
  ...CHAOS_ROUTES,
  ...SSH_KEYS_ROUTES,
  ...SECRETS_ROUTES,
  ...INVENTORY_ROUTES,
  ...STORAGE_ROUTES,
  ...OFFERS_ROUTES,
  ...BACKUPS_ROUTES,
} as const;

export type ApiRoute = keyof typeof API;
export type ApiSpec<K extends ApiRoute> = (typeof API)[K];
/** What a caller passes for route `K`: `{ params, query, body }` as the route has them. */
export type ApiInput<K extends ApiRoute> = InputOf<K, ApiSpec<K>>;
/** The JSON a 2xx answer of route `K` carries. */
export type ApiAnswer<K extends ApiRoute> = ResponseOf<ApiSpec<K>>;
/** The arguments after the key: the input, which may be left out when nothing in it is required. */
export type ApiArgs<K extends ApiRoute> = object extends ApiInput<K> ? [input?: ApiInput<K>] : [input: ApiInput<K>];

export function isApiRoute(key: string): key is ApiRoute {
  return Object.hasOwn(API, key);
}

/** A route's input with `:model` left to the caller's current model (the CLI's `-m`). */
export type ModelInput<K extends ApiRoute> = ApiInput<K> extends { params: infer P }
  ? Omit<ApiInput<K>, 'params'> & (object extends Omit<P, 'model'> ? { params?: Partial<P> } : { params: Omit<P, 'model'> & { model?: string } })
  : ApiInput<K>;
export type ModelArgs<K extends ApiRoute> = object extends ModelInput<K> ? [input?: ModelInput<K>] : [input: ModelInput<K>];

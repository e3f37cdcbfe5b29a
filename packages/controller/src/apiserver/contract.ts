import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { API, paramsSchema, splitKey, type ApiAnswer, type ApiRoute, type ApiSpec, type BodyOf, type ParamsOf, type QueryOf, type RouteSpec } from '@sigil/api';
import { SigilError } from '@sigil/core';

/** What a handler of route `K` receives, typed by the contract. */
export type ContractRequest<K extends ApiRoute> = FastifyRequest<{ Params: ParamsOf<K>; Querystring: QueryOf<ApiSpec<K>>; Body: BodyOf<ApiSpec<K>> }>;

/**
 * A handler of route `K`: it answers the contract's response, or sends its own answer
 * through `reply` (bytes, a status other than 200) and returns the reply.
 */
export type ContractHandler<K extends ApiRoute> = (req: ContractRequest<K>, reply: FastifyReply) => Promise<ApiAnswer<K> | FastifyReply> | ApiAnswer<K> | FastifyReply;

export interface ContractOptions {
  /** A larger body bound than the server's default (charm archives). */
  bodyLimit?: number;
}

/** Marks a route registered through `on`, so the server can refuse one that was not. */
const CONTRACT = Symbol('sigil.contract');

/**
 * Registration from the contract: `on(app)('GET /api/models/:model/status', handler)`
 * registers the route with the method, path and the params, query and body schemas its
 * entry in `API` gives. Nothing about a route's shape is written beside its handler.
 */
export function routes(app: FastifyInstance): <K extends ApiRoute>(key: K, handler: ContractHandler<K>, options?: ContractOptions) => void {
  return (key, handler, options = {}) => {
    const spec: RouteSpec = API[key];
    const { method, path } = splitKey(key);
    const schema: Record<string, TSchema> = {};
    const params = paramsSchema(path);
    if (params) schema.params = params;
    if (spec.query) schema.querystring = spec.query;
    if (spec.body) schema.body = spec.body;
    app.route({ method, url: path, schema, ...options, config: { [CONTRACT]: key }, handler: handler as never });
  };
}

/** The contract key of a route registered through `routes`, if it was. */
export function contractKey(config: unknown): ApiRoute | undefined {
  return (config as Record<symbol, ApiRoute> | undefined)?.[CONTRACT];
}

/**
 * Checks each JSON answer against its route's response schema, and fails the call (500,
 * naming the route and the first mismatch) when it does not match: every test run holds
 * the server to the contract its clients are typed by. On where `SIGIL_CHECK_RESPONSES`
 * is set (the test suite sets it); a production controller does not pay for it.
 */
export function checkResponses(app: FastifyInstance): void {
  const checks = new Map<ApiRoute, TypeCheck<TSchema>>();
  app.addHook('preSerialization', async (req, reply, payload) => {
    const key = contractKey(req.routeOptions.config);
    if (key === undefined || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
    const schema: TSchema = API[key].response;
    if (schema['x-sigil-bytes'] === true) return payload;
    let check = checks.get(key);
    if (check === undefined) checks.set(key, (check = TypeCompiler.Compile(schema)));
    if (!check.Check(payload)) {
      const first = check.Errors(payload).First();
      const where = first ? `${first.path || '/'}: ${first.message}` : 'it does not match';
      throw new SigilError('internal', `the answer of ${key} breaks the API contract at ${where}`, 'fix the route or its response schema in packages/api/src/routes/');
    }
    return payload;
  });
}

import { Type, type Static, type TObject, type TSchema, type TString } from '@sinclair/typebox';
import type { Access } from './access.ts';
import { pathParams } from './wire.ts';

/**
 * The API contract: each route's method and path, who may call it, and the schemas of its
 * query, body and answer, written once. The controller registers its routes from it
 * (validating params, query and body, and, under `SIGIL_CHECK_RESPONSES`, every answer);
 * the CLI, the agent and the GUI call it through `requestOf`, typed by the same entry.
 * A route's path parameters are its `:name` segments: always strings, never empty.
 */
export interface RouteSpec {
  access: Access;
  /** `?name=value` parameters; values arrive as strings (integers and booleans are coerced). */
  query?: TObject;
  /** The JSON body. */
  body?: TSchema;
  /** The JSON answer (2xx). Routes that answer bytes or text (archives, the GUI's files) say `Bytes`. */
  response: TSchema;
}

/** The answer of a route that sends bytes or text, not JSON. */
export const Bytes = Type.Unsafe<Buffer | string>({ 'x-sigil-bytes': true });

/** `{ ok: true }`: done. */
export const Ok = Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false });

/**
 * Compiles only when `A` and `B` are the same type (each assignable to the other): a schema
 * written for a type declared elsewhere (in @sigil/core) cannot drift from it.
 */
export function sameType<A, B>(..._: [A] extends [B] ? ([B] extends [A] ? [] : [never]) : [never]): void {}

/** Declares a route; the `as const` shape keeps its schemas' types. */
export function route<S extends RouteSpec>(spec: S): S {
  return spec;
}

type PathOf<K extends string> = K extends `${string} ${infer P}` ? P : never;
type NamesIn<P extends string> = P extends `${string}:${infer N}/${infer Rest}` ? N | NamesIn<`/${Rest}`> : P extends `${string}:${infer N}` ? N : never;

/** The path parameters of route `K`, by name. */
export type ParamsOf<K extends string> = { [N in NamesIn<PathOf<K>>]: string };
export type QueryOf<S extends RouteSpec> = S['query'] extends TObject ? Static<S['query']> : never;
export type BodyOf<S extends RouteSpec> = S['body'] extends TSchema ? Static<S['body']> : never;
export type ResponseOf<S extends RouteSpec> = Static<S['response']>;

/** What a caller passes for a route: its path parameters (when it has any), query and body. */
export type InputOf<K extends string, S extends RouteSpec> =
  (NamesIn<PathOf<K>> extends never ? { params?: undefined } : { params: ParamsOf<K> })
  & (S['query'] extends TObject ? { query?: Static<S['query']> } : { query?: undefined })
  & (S['body'] extends TSchema ? { body: Static<S['body']> } : { body?: undefined });

/** The params schema of a path: each `:name` a non-empty string. */
export function paramsSchema(path: string): TObject<Record<string, TString>> | undefined {
  const names = pathParams(path);
  if (names.length === 0) return undefined;
  return Type.Object(Object.fromEntries(names.map((n) => [n, Type.String({ minLength: 1 })])), { additionalProperties: false });
}

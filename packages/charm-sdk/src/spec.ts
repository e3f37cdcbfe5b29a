/**
 * A charm's metadata as a TypeScript value. `sigil charm build` writes it from
 * metadata.yaml, config.yaml and actions.yaml into `src/charm.gen.ts`, so endpoint names,
 * action names, config keys and their types are checked when the charm compiles.
 */

export type ConfigType = 'string' | 'int' | 'float' | 'boolean' | 'secret';

export interface EndpointDecl {
  readonly interface: string;
  readonly scope?: 'global' | 'container';
}

export interface OptionDecl {
  readonly type: ConfigType;
  readonly default?: string | number | boolean;
}

export interface ParamDecl {
  readonly type?: string;
}

export interface ActionDecl {
  readonly params: Readonly<Record<string, ParamDecl>>;
  readonly required: readonly string[];
}

export interface CharmSpec {
  readonly name: string;
  readonly subordinate: boolean;
  /** The charm asks for batched dispatch: one `reconcile` for many relation/config events. */
  readonly holistic: boolean;
  readonly provides: Readonly<Record<string, EndpointDecl>>;
  readonly requires: Readonly<Record<string, EndpointDecl>>;
  readonly peers: Readonly<Record<string, EndpointDecl>>;
  readonly config: Readonly<Record<string, OptionDecl>>;
  readonly actions: Readonly<Record<string, ActionDecl>>;
}

type Keys<T> = Extract<keyof T, string>;

/** Every relation endpoint the charm declares. */
export type EndpointName<S extends CharmSpec> = Keys<S['provides']> | Keys<S['requires']> | Keys<S['peers']>;
export type ActionName<S extends CharmSpec> = Keys<S['actions']>;

type ValueOf<T extends ConfigType> = T extends 'int' | 'float' ? number : T extends 'boolean' ? boolean : string;

/** config.yaml as a type: options with a default are always present, others may be unset. */
export type ConfigOf<S extends CharmSpec> = {
  readonly [K in Keys<S['config']>]: S['config'][K] extends { default: unknown }
    ? ValueOf<S['config'][K]['type']>
    : ValueOf<S['config'][K]['type']> | undefined;
};

type ParamValue<P> = P extends { type: 'integer' | 'number' } ? number : P extends { type: 'boolean' } ? boolean : P extends { type: 'string' } ? string : unknown;

/** An action's parameters as a type (required ones always present, as Juju validates them). */
export type ParamsOf<S extends CharmSpec, A extends ActionName<S>> = {
  readonly [K in Keys<S['actions'][A]['params']>]: K extends S['actions'][A]['required'][number]
    ? ParamValue<S['actions'][A]['params'][K]>
    : ParamValue<S['actions'][A]['params'][K]> | undefined;
};

/** Which side of a relation an endpoint is. */
export function endpointRole(spec: CharmSpec, endpoint: string): 'provides' | 'requires' | 'peers' | undefined {
  for (const role of ['provides', 'requires', 'peers'] as const) if (endpoint in spec[role]) return role;
  return undefined;
}

export function endpointDecl(spec: CharmSpec, endpoint: string): EndpointDecl | undefined {
  const role = endpointRole(spec, endpoint);
  return role ? spec[role][endpoint] : undefined;
}

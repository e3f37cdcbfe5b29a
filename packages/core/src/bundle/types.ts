/**
 * The shapes of a Juju bundle once read and merged with its overlays, the slice of a model
 * a bundle is planned against, and the changes a plan is made of.
 */
import type { Charm, ConfigValue } from '../charm/types.ts';

export interface BundleMachine {
  constraints: string;
  annotations: Record<string, string>;
}

export interface BundleApplication {
  /**
   * The charm directory as an absolute path (relative paths resolve against the file that
   * names them), or a bare charm name for a charm in the controller's library.
   */
  charm: string;
  /**
   * With a bare charm name (`charm: postgresql`, a charm in the controller's library, as
   * `sigil charms` lists it): `revision:`, an uploaded revision of it.
   */
  revision?: number;
  /** `num_units` or `scale`; 0 when absent. Subordinates ignore it. */
  numUnits: number;
  /** Placements as written, one per unit, the last repeating: `new`, a bundle machine id, or `app/N`. */
  to: string[];
  /** As written in YAML; typed against the charm's config.yaml when planning. */
  options: Record<string, ConfigValue>;
  expose: boolean;
  constraints: string;
  annotations: Record<string, string>;
}

export interface Bundle {
  description: string;
  applications: Record<string, BundleApplication>;
  machines: Record<string, BundleMachine>;
  /** Pairs of `app` or `app:endpoint`, as written, deduplicated. */
  relations: [string, string][];
  /**
   * Where things were written, as `file:line`, so that errors found while planning can point
   * at the bundle: keys `applications.<app>`, `applications.<app>.<field>`,
   * `applications.<app>.options.<key>`, `machines.<id>` and `relations.<index>`.
   */
  locations?: Record<string, string>;
}

/** One YAML file: its path (absolute, so relative charm and include paths resolve) and text. */
export interface BundleSource {
  path: string;
  text: string;
}

export interface ModelUnit {
  name: string;
  machine: string | null;
}

export interface ModelApp {
  charmName: string;
  charmHash: string;
  /** Live units only (not dying). */
  units: ModelUnit[];
  /** Options the user set, not the charm defaults. */
  config: Record<string, ConfigValue>;
  exposed: boolean;
  constraints: string;
  annotations: Record<string, string>;
  subordinate: boolean;
}

export interface ModelRelation {
  /** One endpoint for a peer relation, two otherwise. */
  endpoints: { app: string; name: string }[];
}

export interface ModelState {
  applications: Record<string, ModelApp>;
  machines: string[];
  /** Constraints and annotations of the machines that have any (export-bundle writes them). */
  machineSpecs?: Record<string, { constraints: string; annotations: Record<string, string> }>;
  relations: ModelRelation[];
}

/** The charm a bundle application names, as read from its directory, with its content hash. */
export interface BundleCharm {
  hash: string;
  charm: Charm;
}

/**
 * One step of a plan. Placements (`to`) hold `new`, a bundle machine id created by an
 * earlier `add-machine` of the same plan, or a unit name (`app/N`) whose machine to share.
 */
export type Change =
  | { kind: 'add-charm'; app: string; path: string }
  | { kind: 'add-machine'; id: string; constraints: string; annotations?: Record<string, string> }
  | { kind: 'deploy'; app: string; charmPath: string; numUnits: number; to: string[]; options: Record<string, ConfigValue>; constraints: string }
  | { kind: 'refresh'; app: string; charmPath: string }
  | { kind: 'add-unit'; app: string; n: number; to: string[] }
  | { kind: 'set-config'; app: string; set: Record<string, ConfigValue>; reset: string[] }
  | { kind: 'set-constraints'; app: string; constraints: string }
  | { kind: 'relate'; a: string; b: string }
  | { kind: 'expose' | 'unexpose'; app: string }
  | { kind: 'set-annotations'; app: string; annotations: Record<string, string> };

/**
 * The shapes a parsed charm takes in Sigil. They mirror juju/charm's `Meta`, `Config` and
 * `Actions` closely enough that a charm written for Juju reads the same here.
 */

import type { ResourceSpec, StorageSpec } from './storage.ts';

export type ConfigValue = string | number | boolean;

export type Role = 'provider' | 'requirer' | 'peer';

export interface EndpointSpec {
  name: string;
  role: Role;
  interface: string;
  /** Maximum number of relations on this endpoint; absent means unlimited. */
  limit?: number;
  optional: boolean;
  scope: 'global' | 'container';
}

export interface CharmMeta {
  name: string;
  summary: string;
  description: string;
  subordinate: boolean;
  provides: Record<string, EndpointSpec>;
  requires: Record<string, EndpointSpec>;
  peers: Record<string, EndpointSpec>;
  extraBindings: string[];
  /** `storage:` (filesystem and block stores) and `resources:`, by name. */
  storage: Record<string, StorageSpec>;
  resources: Record<string, ResourceSpec>;
  /** The whole of metadata.yaml as plain data, unknown keys included. */
  raw: Record<string, unknown>;
}

export type ConfigType = 'string' | 'int' | 'float' | 'boolean' | 'secret';

export interface ConfigOption {
  type: ConfigType;
  /** Absent means the option is unset (null) until the user sets it. */
  default?: ConfigValue;
  description: string;
}

export interface ActionSpec {
  name: string;
  description: string;
  /** The JSON Schema object Juju builds: `{title, type: object, description, properties, ...}`. */
  schema: Record<string, unknown>;
  parallel: boolean;
  executionGroup: string;
}

export interface Charm {
  meta: CharmMeta;
  config: Record<string, ConfigOption>;
  actions: Record<string, ActionSpec>;
  version?: string;
}

/** The text of a charm's files, as read from its directory or archive. */
export interface CharmFiles {
  metadata?: string;
  config?: string;
  actions?: string;
  version?: string;
}

import type { Charm, ModelState } from '@sigil/core';

/** GET /api/models/:model/bundle-state: the model as the bundle planner and exporter see it. */
export interface BundleStateDoc {
  state: ModelState;
  /** Each application's charm (for relation inference and default options). */
  charms: Record<string, Charm>;
  /** Where each application's charm was uploaded from, for export-bundle. */
  charmPaths: Record<string, string>;
}

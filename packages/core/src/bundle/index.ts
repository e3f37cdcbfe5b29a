export type {
  Bundle,
  BundleApplication,
  BundleCharm,
  BundleMachine,
  BundleSource,
  Change,
  ModelApp,
  ModelRelation,
  ModelState,
  ModelUnit,
} from './types.ts';
export { loadBundle } from './load.ts';
export { planBundle, mapMachines, EXISTING_MACHINE } from './plan.ts';
export { describeChange } from './describe.ts';
export { exportBundle } from './export.ts';

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
export { planBundle, EXISTING_MACHINE } from './plan.ts';
export { parseMapMachines } from './map-machines.ts';
export { describeChange } from './describe.ts';
export { exportBundle } from './export.ts';

/** Routes of the rollout area (packages/controller/src/apiserver). */
export const ROLLOUT_ROUTES = {} as const;

/** Routes of the ops area (packages/controller/src/apiserver). */
export const OPS_ROUTES = {} as const;

/** Routes of the containers area (packages/controller/src/apiserver). */
export const CONTAINERS_ROUTES = {} as const;

/** Routes of the offers area (packages/controller/src/apiserver). */
export const OFFERS_ROUTES = {} as const;

/** Routes of the inventory area (packages/controller/src/apiserver). */
export const INVENTORY_ROUTES = {} as const;

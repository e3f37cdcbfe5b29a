/** Routes of the storage area (packages/controller/src/apiserver). */
export const STORAGE_ROUTES = {} as const;

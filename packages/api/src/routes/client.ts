/** Routes of the client area (packages/controller/src/apiserver). */
export const CLIENT_ROUTES = {} as const;

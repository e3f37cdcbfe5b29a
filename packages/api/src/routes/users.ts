/** Routes of the users area (packages/controller/src/apiserver). */
export const USERS_ROUTES = {} as const;

/** Routes of the secrets area (packages/controller/src/apiserver). */
export const SECRETS_ROUTES = {} as const;

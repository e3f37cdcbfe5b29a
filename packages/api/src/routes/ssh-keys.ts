/** Routes of the ssh-keys area (packages/controller/src/apiserver). */
export const SSH_KEYS_ROUTES = {} as const;

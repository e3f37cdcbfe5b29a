/** Routes of the chaos area (packages/controller/src/apiserver). */
export const CHAOS_ROUTES = {} as const;

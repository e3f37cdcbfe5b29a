/** Routes of the agent area (packages/controller/src/apiserver). */
export const AGENT_ROUTES = {} as const;

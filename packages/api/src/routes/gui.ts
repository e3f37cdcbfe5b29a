/** Routes of the gui area (packages/controller/src/apiserver). */
export const GUI_ROUTES = {} as const;

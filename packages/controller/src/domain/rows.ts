/**
 * The read model moved to `state/rows.ts`; this re-export serves the domain files not yet
 * pointed there, and goes once they are.
 */
export * from '../state/rows.ts';

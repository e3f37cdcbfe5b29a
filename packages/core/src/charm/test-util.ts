import { SigilError } from '../errors.ts';

/** Runs `fn`, which must throw a SigilError, and returns the error for closer checks. */
export function sigilError(fn: () => unknown): SigilError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SigilError) return e;
    throw e;
  }
  throw new Error('expected a SigilError, but nothing was thrown');
}

import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The directory of the built bundles the CLI starts or copies (controller.mjs, agent.mjs, their
 * chunks, the hook-tool client). Bundled, this module is in `dist/sigil.mjs` or in one of the
 * chunks under `dist/chunks/` (commands load lazily), so the directory is that file's, or its
 * parent's.
 */
export const DIST = basename(HERE) === 'chunks' ? dirname(HERE) : HERE;

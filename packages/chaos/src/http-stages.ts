import { TCP_STAGES, type StageFactory } from './stages.ts';

/**
 * The HTTP toxics act through the connection's HttpSession (it must see both directions
 * to keep answers in order); in the link chains they are pass-through markers.
 */
export const HTTP_STAGES: Record<string, StageFactory> = {
  http_error: TCP_STAGES['noop']!,
  http_abort: TCP_STAGES['noop']!,
};

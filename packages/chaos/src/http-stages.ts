import type { StageFactory } from './stages.ts';
export const HTTP_STAGES: Record<string, StageFactory> = {};

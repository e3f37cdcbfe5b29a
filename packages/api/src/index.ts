export * from './status.ts';
export * from './charm.ts';
export * from './agent.ts';
export * from './requests.ts';
export * from './concerns.ts';
export * from './bundle.ts';
export * from './agent-schemas.ts';
export * from './gui.ts';

export * from './provider.ts';
export * from './process.ts';
export * from './local-process/local-process.ts';
export * from './lxc/index.ts';
export * from './relay.ts';
export * from './away.ts';

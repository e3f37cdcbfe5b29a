export * from './errors.ts';
export * from './names.ts';
export * from './duration.ts';
export * from './status.ts';
export * from './charm/index.ts';
export * from './bundle/index.ts';
export * from './text.ts';
export * from './size.ts';

export * from './ablation.js';
export * from './registry.js';
export * from './run.js';
export * from './summary.js';
export * from './types.js';

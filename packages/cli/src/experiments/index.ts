export * from './ablation.js';
export * from './image-classification.js';
export * from './method-runner.js';
export * from './presentation.js';
export * from './registry.js';
export * from './run.js';
export * from './summary.js';
export * from './types.js';

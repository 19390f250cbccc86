export * from './layers-task.js';
export * from './methods.js';
export * from './optimizers.js';
export * from './penalty.js';
export * from './random.js';
export * from './trainer.js';
export * from './weights.js';
export * from './yield.js';

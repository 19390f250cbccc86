// Synthetic tasks with their data, browser-safe (tfjs only: no Node imports, no files): what the
// toy2d and kink experiments train, and what the explorer page trains live.
export * from './kink.js';
export * from './kink-data.js';
export * from './replicated-mlp.js';
export * from './toy2d.js';

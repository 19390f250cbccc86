// The method as a library: browser-safe (tfjs only, no Node imports). The synthetic tasks the
// explorer trains are under `persistent-neurons/tasks`.
export * from './core/index.js';

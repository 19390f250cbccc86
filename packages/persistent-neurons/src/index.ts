// The method: browser-safe, no Node imports. Experiments and the CLI live under ./experiments.
export * from './core/index.js';

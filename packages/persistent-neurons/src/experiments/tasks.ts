// The tasks of the toy2d and kink experiments with their data, browser-safe (no Node imports,
// no runner, no files): what the explorer page trains, under the package's `./tasks` export.
export * from '../data/kink.js';
export * from './kink-task.js';
export * from './toy2d-task.js';

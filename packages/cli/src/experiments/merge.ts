import type { AnyExperiment } from './registry.js';
import type { ExperimentOutput } from './types.js';

/**
 * The details of a run made of parts (each `experiment.run` on one method and some seeds, in the
 * config's method order and seed order): arrays are concatenated, any other value is taken from the
 * first part that has it (it is the same in every part: data, scopes, the line's MSE). That is
 * what `run` returns for the whole config for every experiment whose only per-method or per-seed
 * details are arrays; one with others merges its own (`Experiment.mergeDetails`, toy2d's `start`).
 */
export function mergeDetails(experiment: AnyExperiment, parts: unknown[]): unknown {
  if (experiment.mergeDetails) return experiment.mergeDetails(parts);
  const merged: Record<string, unknown> = {};
  for (const part of parts as Record<string, unknown>[]) {
    for (const [key, value] of Object.entries(part)) {
      if (!(key in merged)) merged[key] = Array.isArray(value) ? [...value] : value;
      else if (Array.isArray(merged[key]) && Array.isArray(value)) (merged[key] as unknown[]).push(...value);
    }
  }
  return merged;
}

/**
 * One output from the outputs of parts of a run (a sweep point's jobs, `pn run --jobs`'s methods), in
 * the config's method and seed order: what `experiment.run` returns for the whole config.
 */
export function mergeOutputs(
  experiment: AnyExperiment,
  parts: readonly Pick<ExperimentOutput<unknown>, 'metric' | 'runs' | 'details'>[],
): ExperimentOutput<unknown> {
  return {
    metric: parts[0].metric,
    runs: parts.flatMap((part) => part.runs),
    details: mergeDetails(
      experiment,
      parts.map((part) => part.details),
    ),
  };
}

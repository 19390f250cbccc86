import { createHash } from 'node:crypto';
import { type Method, methodOptions } from 'persistent-neurons';
import type { AnyExperiment } from '../experiments/registry.js';
import { seedList } from '../experiments/types.js';
import type { GridPoint } from './grid.js';
import type { DataFingerprint, JobPayload } from './job.js';

/** A job: one method on one seed group, with what it serves. */
export interface PlannedJob {
  id: string;
  payload: JobPayload;
  /** The points (their indices) whose results include this job's runs. */
  points: number[];
}

export interface SweepPlan {
  /** Every distinct job, in the order they are first needed. */
  jobs: PlannedJob[];
  /** Per point (by index), its jobs in the config's method order and seed order: the order results list runs. */
  pointJobs: Map<number, string[]>;
}

/** The seed groups `experiment.run` trains as one task each (`seedsPerTask`). */
export function seedGroups(experiment: AnyExperiment, seeds: number[]): number[][] {
  return experiment.seedsPerTask === 'all' ? [seeds] : seeds.map((seed) => [seed]);
}

/** JSON with object keys sorted, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as object)
            .sort()
            .map((key) => [key, (v as Record<string, unknown>)[key]]),
        )
      : v,
  );
}

/**
 * Exactly what determines a job's result: the experiment, the method, the seeds, the project
 * version, what the trainer runs for this method (`methodOptions`: a baseline has no penalty,
 * `standard` no K) and every experiment-specific key of the config (model, data, batch size, …).
 * Points that differ only in what a method ignores share its job.
 */
export function jobKey(
  experiment: AnyExperiment,
  config: Record<string, unknown>,
  method: Method,
  seeds: number[],
  version: string,
): unknown {
  const { seeds: _count, methods: _methods, trajectories, epochs, optimizer, penalty, ...rest } = config;
  const scopes = experiment.scopes?.(config as never);
  const trainer = methodOptions(method, { trajectories, epochs, optimizer, penalty, scopes } as never);
  return { experiment: experiment.name, version, method, seeds, trainer, rest };
}

export function jobId(key: unknown): string {
  // A BullMQ job id must not be a bare integer or hold ':'.
  return `j${createHash('sha256').update(canonicalJson(key)).digest('hex').slice(0, 32)}`;
}

/**
 * The jobs of a sweep: per point, one per method and seed group, each identified by the hash of
 * its key, so that a job several points need is run once.
 */
export function planSweep(
  sweepId: string,
  experiment: AnyExperiment,
  points: readonly GridPoint[],
  version: string,
  fingerprint: (point: GridPoint) => DataFingerprint | null,
): SweepPlan {
  const jobs = new Map<string, PlannedJob>();
  const pointJobs = new Map<number, string[]>();
  for (const point of points) {
    const { config, preset } = point.run;
    const ids: string[] = [];
    for (const method of config.methods) {
      for (const group of seedGroups(experiment, seedList(config))) {
        const id = jobId(jobKey(experiment, config as never, method, group, version));
        ids.push(id);
        const existing = jobs.get(id);
        if (existing) {
          existing.points.push(point.index);
          continue;
        }
        jobs.set(id, {
          id,
          points: [point.index],
          payload: {
            sweep: sweepId,
            version,
            experiment: experiment.name,
            preset,
            method,
            seeds: group,
            config: { ...config, methods: [method] },
            data: fingerprint(point),
          },
        });
      }
    }
    pointJobs.set(point.index, ids);
  }
  return { jobs: [...jobs.values()], pointJobs };
}

/** `1-4` for consecutive seeds, else `1, 3, 7`. */
export function formatSeeds(seeds: readonly number[]): string {
  const consecutive = seeds.every((seed, i) => i === 0 || seed === seeds[i - 1] + 1);
  return consecutive && seeds.length > 2 ? `${seeds[0]}-${seeds.at(-1)}` : seeds.join(', ');
}

import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMethod, type Method } from 'persistent-neurons';
import { z } from 'zod';
import { PRESETS } from '../experiments/types.js';
import { environmentSchema, metricSchema, runSchema } from '../report/results-schema.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** The files of a data directory as the coordinator saw them: every regular file directly in it, by name. */
export const fingerprintSchema = z.strictObject({
  dir: z.string(),
  files: z.array(z.strictObject({ name: z.string(), size: z.number().int().nonnegative(), sha256 })),
});
export type DataFingerprint = z.infer<typeof fingerprintSchema>;

/**
 * What a job carries: a registered experiment, a config for exactly one method, the seeds to run,
 * the version of the project that planned it and the fingerprint of its data files. A worker
 * checks all of it before it runs anything.
 */
export const jobPayloadSchema = z.strictObject({
  sweep: z.string().regex(/^[0-9a-f]{12}$/),
  version: z.string().max(200),
  experiment: z.string().max(100),
  preset: z.enum(PRESETS),
  method: z.string().refine(isMethod, 'not a method') as z.ZodType<Method>,
  seeds: z
    .array(z.number().int().min(1).max(1000))
    .min(1)
    .refine((seeds) => seeds.every((seed, i) => i === 0 || seed > seeds[i - 1]), 'seeds must increase'),
  config: z.record(z.string(), z.unknown()),
  data: fingerprintSchema.nullable(),
});
export type JobPayload = z.infer<typeof jobPayloadSchema>;

/** A file a job wrote below its run directory (a saved model), sent through Redis beside the result. */
export const jobFileSchema = z.strictObject({
  path: z.string().refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'not a relative path'),
  size: z.number().int().nonnegative(),
  sha256,
});

/** What a job returns: `experiment.run`'s output for its method and seeds, its files, and where it ran. */
export const jobResultSchema = z.object({
  metric: metricSchema,
  runs: z.array(runSchema),
  details: z.record(z.string(), z.unknown()),
  files: z.array(jobFileSchema),
  environment: environmentSchema,
  /** `host:pid` of the worker process. */
  worker: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
});
export type JobResult = z.infer<typeof jobResultSchema>;

const hashes = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

/** sha256 of a file, remembered by path, size and modification time. */
function fileHash(path: string, size: number, mtimeMs: number): string {
  const known = hashes.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known.sha256;
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const digest = hash.digest('hex');
  hashes.set(path, { size, mtimeMs, sha256: digest });
  return digest;
}

/** Sizes and hashes of every regular file directly in `dir`; null when `dir` is no directory. */
export function fingerprintDirectory(dir: string): DataFingerprint | null {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return null;
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const { size, mtimeMs } = statSync(path);
      return { name, size, sha256: fileHash(path, size, mtimeMs) };
    });
  return { dir, files };
}

/** The data directory a config reads (`data.dir`), if any. */
export function dataDirectory(config: Record<string, unknown>): string | null {
  const dir = (config.data as { dir?: unknown } | undefined)?.dir;
  return typeof dir === 'string' ? dir : null;
}

/** How `found` differs from `expected`, in words; null when they are the same. */
export function fingerprintDifference(expected: DataFingerprint, found: DataFingerprint | null): string | null {
  if (!found) return 'is missing';
  const have = new Map(found.files.map((file) => [file.name, file]));
  for (const file of expected.files) {
    const mine = have.get(file.name);
    if (!mine) return `has no ${file.name}`;
    if (mine.size !== file.size) return `has ${file.name} of ${mine.size} bytes, not ${file.size}`;
    if (mine.sha256 !== file.sha256) return `has another ${file.name} (same size, other contents)`;
  }
  const extra = found.files.find((file) => !expected.files.some((e) => e.name === file.name));
  if (extra) return `has ${extra.name}, which the coordinator's has not`;
  return null;
}

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { DamagedFileError, UsageError } from './errors.js';

/**
 * Writes a file whole or not at all: a temp file beside it, fsync, rename. A failed write removes
 * the temp file and names the file it was for; one the user can fix (a full disk, a read-only
 * directory) is a UsageError.
 */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(temp, 'w');
    try {
      const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
      for (let written = 0; written < bytes.byteLength; )
        written += writeSync(fd, bytes, written, bytes.byteLength - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The write's own error is the one to report.
    }
    throw writeError(path, error);
  }
}

/** What the user can do about a failed write, by error code. */
const WRITE_REMEDIES: Record<string, string> = {
  ENOSPC: 'free some disk space and try again',
  EDQUOT: 'free some disk space and try again',
  EROFS: 'make the directory writable and try again',
  EACCES: 'make the directory writable and try again',
  EPERM: 'make the directory writable and try again',
};

function writeError(path: string, error: unknown): Error {
  const { code, message } = error as NodeJS.ErrnoException;
  const remedy = code === undefined ? undefined : WRITE_REMEDIES[code];
  if (remedy) return new UsageError(`cannot write ${path} (${message}); ${remedy}`);
  return new Error(`cannot write ${path} (${message})`, { cause: error });
}

/** JSON has no NaN or ±Infinity: they are written as null. */
export function nanToNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, nanToNull, 2)}\n`);
}

/**
 * Reads a JSON file that this program wrote, checked against `schema`: one that does not parse
 * or does not match is a DamagedFileError whose message names the file, what is wrong and
 * `remedy`. A missing file throws as readFileSync does (ENOENT).
 */
export function readJsonFile<T = unknown>(path: string, schema?: z.ZodType<T>, remedy?: string): T {
  const bytes = readFileSync(path);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DamagedFileError(path, jsonProblem(bytes, (error as Error).message), remedy);
  }
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DamagedFileError(path, `${issue.path.join('.') || '(root)'}: ${issue.message}`, remedy);
  }
  return parsed.data;
}

/** Why JSON.parse refused `bytes`: cut short (what a full disk or a broken copy leaves) or not JSON. */
function jsonProblem(bytes: Buffer, message: string): string {
  if (bytes.byteLength === 0) return 'empty file';
  const text = bytes.toString('utf8');
  const at = /at position (\d+)/.exec(message);
  const position = at ? Number(at[1]) : undefined;
  if (/Unexpected end of JSON input/.test(message) || (position !== undefined && position >= text.trimEnd().length))
    return `truncated JSON at byte ${bytes.byteLength}`;
  if (position !== undefined) return `invalid JSON at byte ${Buffer.byteLength(text.slice(0, position))}`;
  return 'not JSON';
}

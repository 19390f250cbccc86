import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { UsageError } from '../experiments/run.js';

/**
 * Redis keys. Every sweep has a BullMQ queue of its own (`pn:sweep-<id>:…`, BullMQ's prefix `pn`),
 * the files its jobs send (`pn:sweep-<id>:files:<job>`), and an entry in the registry of active
 * sweeps that workers read (`pn:sweeps`, a hash: sweep id → SweepEntry).
 */
export const PREFIX = 'pn';
export const REGISTRY = `${PREFIX}:sweeps`;
export const queueName = (sweepId: string) => `sweep-${sweepId}`;
export const filesKey = (sweepId: string, jobId: string) => `${PREFIX}:${queueName(sweepId)}:files:${jobId}`;
/** Every key of a sweep's namespace. */
export const sweepKeyPattern = (sweepId: string) => `${PREFIX}:${queueName(sweepId)}:*`;

/** A registry entry: what a worker needs to decide whether to take a sweep's jobs. */
export const sweepEntrySchema = z.object({
  version: z.string(),
  experiment: z.string(),
  host: z.string(),
  createdAt: z.string(),
});
export type SweepEntry = z.infer<typeof sweepEntrySchema>;

/** How often `pn worker` reads the registry: a sweep gone from it is left within this time. */
export const REGISTRY_POLL_MS = 1000;

/** Job attempts before a job counts as failed (a throwing job is retried twice). */
export const JOB_ATTEMPTS = 3;

/** The URL with its password replaced, for messages and files others read. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** Checks that `url` is a redis:// URL; a UsageError otherwise. */
export function checkUrl(url: string, flag = '--queue'): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${flag} must be a URL such as redis://:password@host:6379, got "${redactUrl(url)}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`${flag} must be a redis:// (or rediss://) URL, got "${redactUrl(url)}"`);
}

/** Reconnects quickly after Redis restarts (every 0.2 s, backing off to 2 s), forever. */
const retryStrategy = (times: number) => Math.min(200 * times, 2000);

/** BullMQ's connection options for `url`: commands wait for a reconnect instead of failing. */
export function bullConnection(url: string) {
  return { url, maxRetriesPerRequest: null, retryStrategy, skipVersionCheck: false };
}

/** A plain client for the sweep's own keys (registry, files), reconnecting as BullMQ's do. */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy, ...options });
  // Connection errors are retried; the commands that wait for them report what matters.
  client.on('error', () => {});
  return client;
}

/**
 * Connects to `url` and runs PING, giving up after `timeoutMs`: a UsageError of one line when the
 * queue cannot be reached or refuses the password.
 */
export async function checkQueue(url: string, timeoutMs = 8000): Promise<void> {
  checkUrl(url);
  const where = redactUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  client.on('error', (error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    // "Connection is closed" says less than the error that closed it.
    const cause = lastError ?? (error as Error);
    const message = (cause.message || String(cause)).split('\n')[0];
    if (/^NOAUTH/.test(message))
      throw new UsageError(`the queue ${where} needs a password (NOAUTH); give it as redis://:password@host:port`);
    if (/^WRONGPASS|invalid password/i.test(message))
      throw new UsageError(`the queue ${where} refused the password (WRONGPASS); check the password in the URL`);
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot reach the queue ${where} (${code && !message.includes(code) ? `${code}: ` : ''}${message}); start redis-server there or check the URL`,
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Deletes every key matching `pattern` (SCAN, so that a large Redis is not blocked). */
export async function deleteKeys(client: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

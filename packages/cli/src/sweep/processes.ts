import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../experiments/run.js';
import { dyingWithParent, stopChild, which } from '../io/processes.js';
import { checkQueue } from './queue.js';

/** Where redis-server is; a UsageError saying how to get it where it is missing. */
export function redisServer(): string {
  const binary = which('redis-server');
  if (!binary)
    throw new UsageError(
      'redis-server is not installed: run bash scripts/setup.sh (or apt-get install redis-server), or give --queue redis://host:port',
    );
  return binary;
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller retries if it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export { stopChild };

export interface EmbeddedRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A private redis-server for one sweep: on 127.0.0.1 only, with a password, its append-only file
 * in `dir` (so that a stopped sweep restarts from it), no eviction. It stops when this process
 * does, SIGKILL included.
 */
export async function startRedis(directory: string, password: string): Promise<EmbeddedRedis> {
  const binary = redisServer();
  // redis-server changes into `dir` before it opens `logfile`: both must be absolute.
  const dir = resolve(directory);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const log = join(dir, 'redis.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'redis.conf');
    writeFileSync(
      conf,
      [
        'bind 127.0.0.1',
        `port ${port}`,
        'protected-mode yes',
        `requirepass ${password}`,
        `dir ${dir}`,
        'appendonly yes',
        'appendfsync everysec',
        'save ""',
        'maxmemory-policy noeviction',
        `logfile ${log}`,
        'daemonize no',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const [command, ...args] = dyingWithParent([binary, conf], 'TERM');
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // What redis-server says before its log file is open (a bad config) goes to stderr.
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    const url = `redis://:${password}@127.0.0.1:${port}`;
    const exited = new Promise<string>((resolve) => child.once('exit', (code) => resolve(`exited (${code})`)));
    const ready = (async () => {
      for (let i = 0; i < 100; i++) {
        try {
          await checkQueue(url, 1000);
          return 'ready';
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return 'no answer within 10 s';
    })();
    const outcome = await Promise.race([ready, exited]);
    if (outcome === 'ready') return { url, process: child, stop: () => stopChild(child, 'SIGTERM', 20_000) };
    await stopChild(child, 'SIGKILL');
    const said = `${existsSync(log) ? readFileSync(log, 'utf8') : ''}\n${stderr}`;
    const tail = said.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
    // Another process may have taken the port between asking and binding.
    if (attempt < 3 && /Address already in use/.test(tail)) continue;
    throw new Error(`the sweep's redis-server ${outcome} (${log}: ${tail || 'no output'})`);
  }
}

/** bin/pn.js of this package. */
const PN = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));

/**
 * `pn worker` processes on this machine for the queue at `url`, one thread per job; each stops
 * when this process does (SIGKILL included) and writes its lines to `logs/worker-<i>.log`.
 */
export function startLocalWorkers(
  count: number,
  url: string,
  logDir: string,
  marker: string,
  stallSeconds?: number,
): ChildProcess[] {
  mkdirSync(logDir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const fd = openSync(join(logDir, `worker-${i + 1}.log`), 'a');
    const args = ['worker', '--threads', '1', '--concurrency', '1'];
    if (stallSeconds !== undefined) args.push('--stall-seconds', String(stallSeconds));
    const [command, ...rest] = dyingWithParent([process.execPath, PN, ...args], 'TERM');
    try {
      // The URL (and its password) goes by environment, not by command line, which others can read.
      return spawn(command, rest, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, PN_QUEUE: url, PN_SWEEP_DIR: marker, TFJS_ONEDNN_THREADS: '1' },
      });
    } finally {
      closeSync(fd);
    }
  });
}

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PN = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));

const redisBinary = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'redis-server'))
  .find((path) => existsSync(path));

/** Why the sweep tests cannot run here, or false. */
export const skipWithoutRedis = redisBinary
  ? false
  : 'redis-server is not installed (bash scripts/setup.sh installs it; apt-get install redis-server)';

/** Every pn process a test started, so that a failing test leaves none behind. */
const started = new Set<ChildProcess>();
/** The test Redis servers. */
const servers = new Set<ChildProcess>();

/** Kills every pn process still running (after each test; their children follow them). */
export function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/** Kills the test Redis servers too (after all tests). */
export function killServers(): void {
  killAll();
  for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  servers.clear();
}

function freePort(): Promise<number> {
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

export interface TestRedis {
  url: string;
  port: number;
  password: string;
  /** redis-cli against it. */
  cli(...args: string[]): string;
  stop(): Promise<void>;
  /** Kills it (SIGKILL: its data, kept nowhere, is lost) and starts an empty one on the same port. */
  restartEmpty(): Promise<void>;
}

/** A redis-server on a free port with a password and no persistence, stopped by `stop` (or killAll). */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  const password = `pw${Math.random().toString(36).slice(2)}`;
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      redisBinary as string,
      ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    servers.add(child);
    for (let i = 0; i < 100; i++) {
      const ping = spawnSync('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', 'ping'], {
        encoding: 'utf8',
      });
      if (ping.stdout.trim() === 'PONG') return;
      await sleep(50);
    }
    throw new Error('the test redis-server did not start');
  };
  await launch();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    cli: (...args) =>
      spawnSync('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', ...args], {
        encoding: 'utf8',
      }).stdout,
    stop,
    restartEmpty: async () => {
      await stop();
      await launch();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Pn {
  child: ChildProcess;
  /** stderr so far */
  stderr(): string;
  stdout(): string;
  /** Resolves when stderr matches `pattern`; rejects after `ms` or when the process ends first. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `pn ...args` as a child process (its output kept), optionally as another user (setpriv, when root). */
export function pn(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; asNobody?: boolean } = {}): Pn {
  const argv = [process.execPath, PN, ...args];
  const [command, ...rest] = options.asNobody
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv]
    : argv;
  const child = spawn(command, rest, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    done,
    async waitFor(pattern, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(err)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`pn ${args[0]} ended before ${pattern}:\n${err}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms / 1000} s:\n${err}`);
        await sleep(100);
      }
    },
  };
}

/**
 * Live processes (not zombies) whose command line or environment holds `marker` (a sweep
 * directory: the embedded Redis's config path, the local workers' PN_SWEEP_DIR), this one excepted.
 */
export function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let environ = '';
      try {
        environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        // another user's process: its command line says enough
      }
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Waits until no process holds `marker` (children follow their parents within a moment). */
export async function assertNoProcessesWith(marker: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  let left = processesWith(marker);
  while (left.length && Date.now() < deadline) {
    await sleep(100);
    left = processesWith(marker);
  }
  assert.deepEqual(left, [], 'processes left behind');
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A point's results against pn run's: the runs (final metrics, every trajectory), details and statistics. */
export function assertSameResults(point: string, run: string): void {
  const a = readJson<Record<string, unknown>>(join(point, 'results.json'));
  const b = readJson<Record<string, unknown>>(join(run, 'results.json'));
  for (const key of [
    'experiment',
    'preset',
    'seeds',
    'config',
    'metric',
    'runs',
    'summary',
    'paired',
    'pairedVsReinit',
    'details',
  ])
    assert.deepEqual(a[key], b[key], `results.json ${key}`);
  for (const key of ['backend', 'threads', 'version', 'isa'])
    assert.equal(
      (a.environment as Record<string, unknown>)[key],
      (b.environment as Record<string, unknown>)[key],
      `environment.${key}`,
    );
}

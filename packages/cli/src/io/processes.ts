import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where `name` is on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  return null;
}

let pdeathsig: boolean | undefined;

/**
 * The command that runs `argv` as a child that gets `signal` when this process dies, SIGKILL
 * included (Linux's parent-death signal, set by util-linux's setpriv); `argv` itself where setpriv
 * is missing.
 */
export function dyingWithParent(argv: string[], signal: 'TERM' | 'KILL'): string[] {
  if (pdeathsig === undefined) {
    const setpriv = which('setpriv');
    pdeathsig = setpriv !== null && spawnSync(setpriv, ['--pdeathsig', 'TERM', 'true']).status === 0;
  }
  return pdeathsig ? ['setpriv', `--pdeathsig=${signal}`, '--', ...argv] : argv;
}

/** Waits for `child` to exit, up to `ms`; then SIGKILL. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([exited.then(() => true), timeout]);
  clearTimeout(timer);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

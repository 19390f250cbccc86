import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadedOneDnn } from '../native-backend.js';
import type { Results } from '../report/results-schema.js';

/** Where the numbers came from. tfjs's cpu backend runs on one JavaScript thread. */
export function environment(): Results['environment'] {
  const backend = tf.getBackend();
  const threads = backend === 'onednn' ? (loadedOneDnn()?.getThreads() ?? null) : backend === 'cpu' ? 1 : null;
  const cores = cpus();
  return {
    backend,
    threads,
    node: process.version,
    tfjs: tf.version_core,
    platform: `${platform()} ${arch()}`,
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    isa: cpuIsa(),
    version: projectVersion(),
    lockHash: lockFileHash(),
  };
}

/** The widest vector ISA the CPU offers of those the native kernels use (from /proc/cpuinfo); null elsewhere. */
export function cpuIsa(): string | null {
  let flags: Set<string>;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^(flags|Features)\s*:/.test(l));
    if (!line) return null;
    flags = new Set(
      line
        .slice(line.indexOf(':') + 1)
        .trim()
        .split(/\s+/),
    );
  } catch {
    return null;
  }
  if (flags.has('avx512f')) return 'AVX-512';
  if (flags.has('avx2')) return 'AVX2';
  if (flags.has('avx')) return 'AVX';
  if (flags.has('sse4_2')) return 'SSE4.2';
  if (flags.has('asimd')) return 'NEON';
  return null;
}

/** packages/cli, from this file's place in dist/src/experiments/. */
const cliRoot = fileURLToPath(new URL('../../../', import.meta.url));

let version: string | undefined;

/**
 * The project's version: the CLI package's version and a hash of the JavaScript that runs (the
 * CLI's dist/src and the library's dist/src), e.g. `0.2.0+3f9a1c0e52d4`. Two machines with the
 * same version compute the same results from the same config, backend and thread count.
 */
export function projectVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as { version: string };
    const library = dirname(fileURLToPath(import.meta.resolve('persistent-neurons')));
    const hash = createHash('sha256');
    for (const [name, dir] of [
      ['persistent-neurons-cli', join(cliRoot, 'dist', 'src')],
      ['persistent-neurons', library],
    ]) {
      for (const file of jsFiles(dir)) {
        hash.update(`${name}/${relative(dir, file)}\0`);
        hash.update(readFileSync(file));
        hash.update('\0');
      }
    }
    version = `${pkg.version}+${hash.digest('hex').slice(0, 12)}`;
  }
  return version;
}

/** Every .js file below `dir`, sorted by path. */
function jsFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.js')) found.push(path);
    }
  };
  walk(dir);
  return found;
}

let lockHash: string | null | undefined;

/** sha256 of the workspace's package-lock.json (the exact dependency tree); null where the CLI was installed without it. */
export function lockFileHash(): string | null {
  if (lockHash === undefined) {
    lockHash = null;
    for (const dir of [cliRoot, join(cliRoot, '..'), join(cliRoot, '..', '..')]) {
      const path = join(dir, 'package-lock.json');
      if (existsSync(path)) {
        lockHash = createHash('sha256').update(readFileSync(path)).digest('hex');
        break;
      }
    }
  }
  return lockHash;
}

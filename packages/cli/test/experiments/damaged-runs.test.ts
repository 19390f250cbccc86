import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig, runExperiment, UsageError } from '../../src/experiments/index.js';
import { writeFileAtomic } from '../../src/io/files.js';
import '../setup.js';

const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));
const scratch = () => mkdtempSync(join(tmpdir(), 'pn-damaged-'));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [pn, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file below `dir`, relative to it. */
const filesBelow = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' });

/** The regular expression matching `text` literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Makes fsync fail with `code` for files whose path `fails` accepts (as a full disk makes it
 * fail), through the named exports that the code under test imports. Returns the undo.
 */
function failWrites(fails: (path: string) => boolean, code = 'ENOSPC'): () => void {
  const open = fs.openSync;
  const fsync = fs.fsyncSync;
  const paths = new Map<number, string>();
  mock.method(fs, 'openSync', (...args: Parameters<typeof fs.openSync>) => {
    const fd = open(...args);
    paths.set(fd, String(args[0]));
    return fd;
  });
  mock.method(fs, 'fsyncSync', (fd: number) => {
    if (fails(paths.get(fd) ?? '')) throw Object.assign(new Error(`${code}: no space left on device, fsync`), { code });
    fsync(fd);
  });
  syncBuiltinESMExports();
  return () => {
    mock.restoreAll();
    syncBuiltinESMExports();
  };
}

// One finished kink run (smoke preset) that every case copies and damages.
const run = resolveConfig('kink', 'smoke');
const finished = scratch();
const whole = await runExperiment(run, { outDir: finished });
const kink = run.config as unknown as { data: { train: number }; batchSize: number };
const stepsPerTrajectory = Math.ceil(kink.data.train / kink.batchSize) * run.config.epochs;

function copyOfFinished(): string {
  const dir = scratch();
  cpSync(finished, dir, { recursive: true });
  return dir;
}

/** Resumes `dir`: its results, its warnings, and how many SGD steps persistent trained. */
async function resume(dir: string) {
  const warnings: string[] = [];
  let persistentSteps = 0;
  const results = await runExperiment(run, {
    outDir: dir,
    resume: true,
    onWarning: (message) => warnings.push(message),
    onProgress: (method) => {
      if (method === 'persistent') persistentSteps++;
    },
  });
  return { results, warnings, persistentSteps };
}

function assertSameResults(resumed: Awaited<ReturnType<typeof resume>>['results']): void {
  assert.deepEqual(resumed.runs, whole.runs);
  assert.deepEqual(resumed.summary, whole.summary);
  assert.deepEqual(resumed.details, whole.details);
}

after(() => rmSync(finished, { recursive: true, force: true }));

describe('pn report: a damaged results.json gives exit 2 and one line naming it', () => {
  const cases = [
    {
      name: 'truncated',
      damage: (path: string) => truncateSync(path, 100),
      reason: 'truncated JSON at byte 100',
    },
    {
      name: 'valid JSON that is not a results file',
      damage: (path: string) => {
        const results = JSON.parse(readFileSync(path, 'utf8'));
        results.runs[0].seed = 'one';
        writeFileSync(path, JSON.stringify(results));
      },
      reason: 'runs.0.seed: ',
    },
  ];
  for (const { name, damage, reason } of cases) {
    test(name, () => {
      const dir = copyOfFinished();
      const path = join(dir, 'results.json');
      damage(path);
      const { code, stdout, stderr } = cli('report', dir);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.equal(stderr.trim().split('\n').length, 1, `one line, got:\n${stderr}`);
      assert.match(
        stderr,
        new RegExp(
          `^pn: ${literal(path)} is damaged \\(${literal(reason)}.*\\); re-create it with pn run --resume ${literal(dir)}, or delete the directory\\n$`,
        ),
      );
    });
  }

  test('a truncated config.json stops --resume with one line', () => {
    const dir = copyOfFinished();
    truncateSync(join(dir, 'config.json'), 30);
    const { code, stderr } = cli('run', 'kink', '--resume', dir);
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, `one line, got:\n${stderr}`);
    assert.match(stderr, /config.json is damaged \(truncated JSON at byte 30\); delete the directory/);
  });
});

describe('--resume redoes a damaged checkpoint, says so, and gives the uninterrupted results', () => {
  test('a truncated checkpoint JSON: that trajectory and the ones after it are trained again', async () => {
    const dir = copyOfFinished();
    const checkpoints = join(dir, 'checkpoints', 'persistent');
    rmSync(join(checkpoints, 'done.json'));
    truncateSync(join(checkpoints, 'trajectory-0.json'), 100);
    const { results, warnings, persistentSteps } = await resume(dir);
    assert.deepEqual(warnings, [
      `${join(checkpoints, 'trajectory-0.json')} is damaged (truncated JSON at byte 100); redoing trajectory 1 and after`,
    ]);
    assert.equal(persistentSteps, run.config.trajectories * stepsPerTrajectory);
    assertSameResults(results);
  });

  test('a truncated checkpoint .bin', async () => {
    const dir = copyOfFinished();
    const checkpoints = join(dir, 'checkpoints', 'persistent');
    rmSync(join(checkpoints, 'done.json'));
    truncateSync(join(checkpoints, 'trajectory-1.bin'), 50);
    const { results, warnings, persistentSteps } = await resume(dir);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0],
      new RegExp(
        `^${literal(join(checkpoints, 'trajectory-1.bin'))} is damaged \\(50 bytes where trajectory-1.json records \\d+\\); redoing trajectory 2 and after$`,
      ),
    );
    assert.equal(persistentSteps, stepsPerTrajectory);
    assertSameResults(results);
  });

  test('a checkpoint JSON that parses but holds the records of fewer seeds', async () => {
    const dir = copyOfFinished();
    const checkpoints = join(dir, 'checkpoints', 'persistent');
    rmSync(join(checkpoints, 'done.json'));
    const path = join(checkpoints, 'trajectory-1.json');
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    saved.records.pop();
    writeFileSync(path, JSON.stringify(saved));
    const { results, warnings } = await resume(dir);
    assert.deepEqual(warnings, [
      `${path} is damaged (${run.config.seeds - 1} records where the run has ${run.config.seeds} replicas); redoing trajectory 2 and after`,
    ]);
    assertSameResults(results);
  });

  test('a damaged done.json: the method is finished again from its checkpoints', async () => {
    const dir = copyOfFinished();
    const done = join(dir, 'checkpoints', 'persistent', 'done.json');
    truncateSync(done, 200);
    const { results, warnings, persistentSteps } = await resume(dir);
    assert.deepEqual(warnings, [
      `${done} is damaged (truncated JSON at byte 200); redoing persistent from its checkpoints`,
    ]);
    assert.equal(persistentSteps, 0, 'every trajectory was checkpointed');
    assertSameResults(results);
    assert.deepEqual(
      JSON.parse(readFileSync(done, 'utf8')).runs,
      whole.runs.filter((r) => r.method === 'persistent'),
    );
  });

  test('pn run --resume prints the warning as one pn: line and finishes', () => {
    const dir = copyOfFinished();
    const checkpoints = join(dir, 'checkpoints', 'reinit');
    rmSync(join(checkpoints, 'done.json'));
    truncateSync(join(checkpoints, 'trajectory-1.json'), 100);
    const { code, stderr } = cli('run', 'kink', '--resume', dir);
    assert.equal(code, 0, stderr);
    const warning = `pn: ${join(checkpoints, 'trajectory-1.json')} is damaged (truncated JSON at byte 100); redoing trajectory 2 and after`;
    assert.equal(
      stderr
        .split('\n')
        .filter((line) => line.includes('is damaged'))
        .join('\n'),
      warning,
    );
  });
});

describe('a failed write leaves no temp file', () => {
  test('writeFileAtomic removes its temp file, keeps the old file and names the one it could not write', () => {
    const dir = scratch();
    const path = join(dir, 'notes.txt');
    writeFileAtomic(path, 'old');
    const undo = failWrites((p) => p.startsWith(path));
    try {
      assert.throws(
        () => writeFileAtomic(path, 'new'),
        (error) =>
          error instanceof UsageError &&
          /^cannot write .*notes.txt \(ENOSPC: no space left on device, fsync\); free some disk space/.test(
            error.message,
          ),
      );
    } finally {
      undo();
    }
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    assert.equal(readFileSync(path, 'utf8'), 'old');
  });

  test('results.json that cannot be written: a clear error, the old results kept, no temp file', async () => {
    const dir = copyOfFinished();
    const before = readFileSync(join(dir, 'results.json'), 'utf8');
    const undo = failWrites((p) => p.startsWith(join(dir, 'results.json')));
    try {
      await assert.rejects(
        resume(dir),
        (error) => error instanceof UsageError && /results.json \(ENOSPC/.test(error.message),
      );
    } finally {
      undo();
    }
    assert.equal(readFileSync(join(dir, 'results.json'), 'utf8'), before);
    assert.deepEqual(
      filesBelow(dir).filter((name) => name.endsWith('.tmp')),
      [],
    );
  });

  test('a checkpoint that cannot be written stops the run cleanly; --resume then finishes it', async () => {
    const dir = scratch();
    const undo = failWrites((p) => p.includes(join('checkpoints', 'persistent', 'trajectory-1.bin')));
    try {
      await assert.rejects(
        runExperiment(run, { outDir: dir }),
        (error) => error instanceof UsageError && /trajectory-1.bin \(ENOSPC/.test(error.message),
      );
    } finally {
      undo();
    }
    assert.deepEqual(
      filesBelow(dir).filter((name) => name.endsWith('.tmp')),
      [],
    );
    const { results, warnings, persistentSteps } = await resume(dir);
    assert.deepEqual(warnings, []);
    assert.equal(persistentSteps, stepsPerTrajectory);
    assertSameResults(results);
  });
});

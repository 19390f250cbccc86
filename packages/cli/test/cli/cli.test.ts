import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const pn = fileURLToPath(new URL('../../../bin/pn.js', import.meta.url));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [pn, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pn: bad input gives one clear line and exit code 2', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pn-cli-'));
  // A directory cannot be made below a file, even by root.
  writeFileSync(join(scratch, 'a-file'), '');
  const cases: { name: string; args: string[]; message: RegExp }[] = [
    {
      name: 'unknown experiment',
      args: ['run', 'mnist-gan', '--out', join(scratch, 'a')],
      message: /unknown experiment "mnist-gan"; choose one of: toy2d, kink/,
    },
    {
      name: 'unknown preset',
      args: ['run', 'kink', '--preset', 'huge', '--out', join(scratch, 'b')],
      message: /huge.*(smoke|Allowed choices)/,
    },
    {
      name: 'unknown --set key',
      args: ['run', 'kink', '--set', 'penalty.lamda=1', '--out', join(scratch, 'c')],
      message: /invalid kink config: unknown key "penalty.lamda"; known here: kind, granularity, lambda/,
    },
    {
      name: 'invalid config value',
      args: ['run', 'kink', '--set', 'epochs=-3', '--out', join(scratch, 'd')],
      message: /invalid kink config: epochs: /,
    },
    {
      name: 'invalid enum',
      args: ['run', 'kink', '--set', 'penalty.kind=magnetic', '--out', join(scratch, 'e')],
      message: /invalid kink config: penalty.kind/,
    },
    {
      name: 'unknown penalty layer',
      args: ['run', 'kink', '--set', 'penalty.layers=["conv9"]', '--out', join(scratch, 'h')],
      message: /penalty.layers: no layer conv9; the model has hidden1, hidden2, output/,
    },
    {
      name: 'missing data directory',
      args: ['run', 'lenet5-init', '--data-dir', '/nonexistent/mnist', '--out', join(scratch, 'i')],
      message:
        /\/nonexistent\/mnist\/train-images-idx3-ubyte\[.gz\] is missing; give --data-dir a directory with the four MNIST-format files/,
    },
    {
      name: 'malformed --set',
      args: ['run', 'kink', '--set', 'epochs', '--out', join(scratch, 'f')],
      message: /--set needs key=value/,
    },
    {
      name: 'bad --seeds',
      args: ['run', 'kink', '--seeds', 'many', '--out', join(scratch, 'g')],
      message: /--seeds must be a positive integer/,
    },
    {
      name: 'unwritable --out',
      args: ['run', 'toy2d', '--preset', 'smoke', '--out', join(scratch, 'a-file', 'run')],
      message: /cannot write to .*a-file\/run \(ENOTDIR\); choose a writable --out/,
    },
    {
      name: 'resume of a directory with no run',
      args: ['run', 'kink', '--resume', scratch],
      message: /holds no run \(no config.json\)/,
    },
    { name: 'report without results', args: ['report', scratch], message: /has no results.json/ },
    { name: 'unknown command', args: ['train'], message: /unknown command 'train'/ },
  ];
  for (const { name, args, message } of cases) {
    test(name, () => {
      const { code, stdout, stderr } = run(...args);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, `one line, got:\n${stderr}`);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      assert.equal(stdout, '');
    });
  }

  test('nothing is written for a rejected run', () => {
    for (const dir of 'abcdefghi') assert.equal(existsSync(join(scratch, dir)), false, dir);
  });

  test('an --out that is a non-empty directory is refused, not overwritten', () => {
    const taken = mkdtempSync(join(tmpdir(), 'pn-taken-'));
    writeFileSync(join(taken, 'keep.txt'), 'mine');
    const { code, stderr } = run('run', 'toy2d', '--preset', 'smoke', '--out', taken);
    assert.equal(code, 2);
    assert.match(stderr, /is not empty; choose a new --out directory or continue it with --resume/);
  });

  test('pn list names every experiment and preset', () => {
    const { code, stdout } = run('list');
    assert.equal(code, 0);
    for (const word of ['toy2d', 'kink', 'smoke', 'quick', 'paper']) assert.match(stdout, new RegExp(word));
  });
});

describe('pn: version, resume by directory, ablation of any experiment', () => {
  test('pn --version prints the package version', () => {
    const { code, stdout } = run('--version');
    assert.equal(code, 0);
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    assert.equal(stdout.trim(), manifest.version);
  });

  test('pn run --resume DIR needs no experiment name; a different name is refused', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pn-resume-')), 'run');
    assert.equal(run('run', 'toy2d', '--preset', 'smoke', '--out', dir).code, 0);
    const first = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const resumed = run('run', '--resume', dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    const again = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.deepEqual(again.runs, first.runs);
    const wrong = run('run', 'kink', '--resume', dir);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /holds a toy2d run, not kink/);
    const none = run('run');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name an experiment .* or give --resume DIR/);
  });

  test('pn ablation takes any experiment: each setting is a run, the table compares it with reinit', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pn-ablation-')), 'toy2d');
    const args = ['ablation', 'toy2d', '--preset', 'smoke', '--kinds', 'gaussian', '--granularities', 'global'];
    const first = run(...args, '--lambdas', '1,3', '--out', out);
    assert.equal(first.code, 0, first.stderr);
    const rows = first.stdout.split('\n').filter((line) => line.startsWith('|'));
    assert.equal(rows.length, 5, first.stdout); // header, separator, reinit, λ = 1 and λ = 3
    assert.match(rows[0], /median val loss/);
    assert.match(rows[2], /^\| reinit \| — \| — \|/);
    for (const lambda of ['1', '3']) {
      assert.ok(
        rows.some((row) => row.startsWith(`| gaussian | global | ${lambda} |`)),
        lambda,
      );
      const results = JSON.parse(readFileSync(join(out, `gaussian-global-${lambda}`, 'results.json'), 'utf8'));
      assert.deepEqual(Object.keys(results.summary), ['persistent']);
      assert.equal(results.config.penalty.lambda, Number(lambda));
    }
    assert.equal(readFileSync(join(out, 'ablation.md'), 'utf8').trim(), rows.join('\n'));
    // A second ablation in the same directory reads the finished settings and runs only the new one.
    const second = run(...args, '--lambdas', '3,10', '--out', out);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /gaussian-global-3 persistent/);
    assert.match(second.stderr, /gaussian-global-10 persistent/);
    // Other seeds are another setting: the directory's runs are not passed off as theirs.
    const other = run(...args, '--lambdas', '3', '--seeds', '3', '--out', out);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /reinit holds a run of another config; give this ablation another --out directory/);
  });
});

import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The published packages as a user gets them: packed from the built workspace, installed into a
// fresh project next to tfjs at the lock file's versions, from npm's cache where it has them.

const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
const published = ['persistent-neurons', 'persistent-neurons-cli', 'tfjs-backend-onednn'] as const;
type Published = (typeof published)[number];
const packageDirs: Record<Published, string> = {
  'persistent-neurons': 'packages/persistent-neurons',
  'persistent-neurons-cli': 'packages/cli',
  'tfjs-backend-onednn': 'packages/tfjs-backend-onednn',
};
const tfjsPackages = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu'];

/** The packages of each `npm install` line at the start of the root README's "Library" section. */
function readmeInstallLines(): string[][] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('\n## Library\n')))?.[1] ?? '';
  return block
    .split('\n')
    .filter((line) => line.startsWith('npm install '))
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(2));
}

/**
 * The environment of every child: npm's settings as npm sets them for a script (`npm test`) would
 * point the child npm at this workspace (`npm_config_local_prefix`) or silence it; only those
 * saying where the cache, registry and config files are are kept.
 */
const keptNpmSettings = new Set(
  ['cache', 'userconfig', 'globalconfig', 'registry', 'cafile', 'proxy', 'https_proxy', 'noproxy', 'strict_ssl'].map(
    (name) => `npm_config_${name}`,
  ),
);
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) || keptNpmSettings.has(name.toLowerCase())),
);
for (const name of ['TFJS_ONEDNN_DISABLE', 'TFJS_ONEDNN_QUIET']) delete childEnv[name];
childEnv.npm_config_update_notifier = 'false';

const npmMissing = spawnSync('npm', ['--version'], { env: childEnv, encoding: 'utf8' }).error !== undefined;

function run(command: string, args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: childEnv, encoding: 'utf8', timeout, maxBuffer: 1 << 28 });
  if (result.error) throw result.error;
  return result;
}

/** Runs a command that must succeed; returns its output. */
function ok(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = run(command, args, cwd);
  assert.equal(result.status, 0, `${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
  return result;
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

/**
 * What an `npm install --loglevel=http` took from npm's cache (`cache hit`, or `cache stale`: a
 * cached copy used as is under --prefer-offline) and what it asked the registry for.
 */
function fetches(log: string): string {
  const requests = lines(log).filter((line) => /^npm http (fetch|cache) /.test(line));
  const fromRegistry = requests.filter((line) => !/\(cache (hit|stale)\)$/.test(line));
  const tarballs = (list: string[]) => list.filter((line) => line.includes('.tgz')).length;
  return (
    `tarballs: ${tarballs(requests) - tarballs(fromRegistry)} from the cache, ${tarballs(fromRegistry)} from the registry; ` +
    `metadata: ${requests.length - tarballs(requests) - (fromRegistry.length - tarballs(fromRegistry))} from the cache, ` +
    `${fromRegistry.length - tarballs(fromRegistry)} from the registry`
  );
}

/** Every physical copy of `name` in the project's tree, from `npm ls --json --all --long`. */
function copiesOf(project: string, name: string): { paths: Set<string>; versions: Set<string> } {
  const tree = JSON.parse(ok('npm', ['ls', '--json', '--all', '--long'], project).stdout);
  const paths = new Set<string>();
  const versions = new Set<string>();
  interface Node {
    version?: string;
    path?: string;
    dependencies?: Record<string, Node>;
  }
  const walk = (node: Node) => {
    for (const [dependency, child] of Object.entries(node.dependencies ?? {})) {
      if (dependency === name) {
        paths.add(String(child.path));
        versions.add(String(child.version));
      }
      walk(child);
    }
  };
  walk(tree);
  return { paths, versions };
}

describe('the published packages, packed and installed', { skip: npmMissing && 'npm is not on PATH' }, () => {
  let root: string;
  let project: string;
  const tarballs = {} as Record<Published, string>;
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  /** What to install for a package the README names: its tarball, or the lock file's version. */
  const installable = (name: string): string => {
    if ((published as readonly string[]).includes(name)) return tarballs[name as Published];
    const locked = lock.packages[`node_modules/${name}`]?.version;
    assert.ok(locked, `the README's install line names ${name}, which is neither published here nor in the lock`);
    return `${name}@${locked}`;
  };
  const [libraryLine, backendLine] = readmeInstallLines();
  const npmInstall = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-exact', '--loglevel=http'];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pn-packaging-'));
    project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('npm pack: each tarball holds its built .js and .d.ts, README.md and LICENSE, and no source maps', () => {
    const packs = join(root, 'packs');
    mkdirSync(packs);
    const workspaces = published.flatMap((name) => ['-w', name]);
    const packed = JSON.parse(
      ok('npm', ['pack', '--json', '--pack-destination', packs, ...workspaces], repo).stdout,
    ) as { name: Published; filename: string; files: { path: string }[] }[];
    assert.deepEqual(packed.map((pack) => pack.name).sort(), [...published].sort());
    for (const pack of packed) {
      tarballs[pack.name] = join(packs, pack.filename);
      const files = pack.files.map((file) => file.path);
      for (const file of ['package.json', 'README.md', 'LICENSE'])
        assert.ok(files.includes(file), `${pack.name}: ${file}`);
      assert.deepEqual(
        files.filter((file) => file.endsWith('.map') || (file.endsWith('.ts') && !file.endsWith('.d.ts'))),
        [],
        `${pack.name} ships source maps or TypeScript sources`,
      );
      // Every file package.json points at (exports, bin) is in the tarball.
      const manifest = JSON.parse(readFileSync(join(repo, packageDirs[pack.name], 'package.json'), 'utf8'));
      const targets = [
        ...Object.values(manifest.exports as Record<string, string | Record<string, string>>).flatMap((target) =>
          typeof target === 'string' ? [target] : Object.values(target),
        ),
        ...Object.values((manifest.bin ?? {}) as Record<string, string>),
      ].map((target) => target.replace(/^\.\//, ''));
      for (const target of targets) assert.ok(files.includes(target), `${pack.name} lacks ${target}`);
      assert.ok(!files.some((file) => file.startsWith('dist/test/')), `${pack.name} ships its tests`);
    }
    const backendFiles = packed.find((pack) => pack.name === 'tfjs-backend-onednn')!.files.map((file) => file.path);
    assert.ok(backendFiles.includes('binding.gyp'));
    assert.ok(backendFiles.includes('native/addon.cc'));
    assert.ok(!backendFiles.some((file) => file.startsWith('build/')), 'tfjs-backend-onednn ships its build');
  });

  describe('the library alone, with tfjs', () => {
    before(() => {
      // As the README says: the library and tfjs, nothing else.
      assert.deepEqual([...libraryLine].sort(), ['persistent-neurons', ...tfjsPackages].sort());
      const install = ok('npm', [...npmInstall, ...libraryLine.map(installable)], project);
      process.stdout.write(`# npm install of the library and tfjs: ${fetches(install.stderr + install.stdout)}\n`);
    });

    it('installs without the CLI or the backend', () => {
      assert.ok(existsSync(join(project, 'node_modules/persistent-neurons/package.json')));
      assert.ok(!existsSync(join(project, 'node_modules/persistent-neurons-cli')));
      assert.ok(!existsSync(join(project, 'node_modules/tfjs-backend-onednn')));
    });

    it('runs the examples of its README: PersistentPenalty in a loop, and trainPersistent', () => {
      const readme = readFileSync(join(project, 'node_modules/persistent-neurons/README.md'), 'utf8');
      const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
        .map((match) => match[1])
        .filter((code) => /^import /m.test(code));
      assert.ok(examples.some((code) => code.includes('new PersistentPenalty(')));
      assert.ok(examples.some((code) => code.includes('trainPersistent(')));
      examples.forEach((code, i) => {
        const file = join(project, `readme-example-${i + 1}.mjs`);
        writeFileSync(file, code);
        const result = ok(process.execPath, [file], project);
        assert.match(result.stdout, /trajectory 1: .*mse \d+\.\d+\ntrajectory 2: .*\d\ntrajectory 3: .*\d\n/);
        for (const value of result.stdout.match(/\d+\.\d+/g) ?? []) assert.ok(Number.isFinite(Number(value)));
      });
    });

    it('type-checks in a strict TypeScript project (NodeNext, skipLibCheck false)', () => {
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2022', 'DOM'],
            strict: true,
            skipLibCheck: false,
            noEmit: true,
          },
          files: ['consumer.ts'],
        }),
      );
      writeFileSync(join(project, 'consumer.ts'), typedConsumer);
      const tsc = join(repo, 'node_modules/.bin/tsc');
      const result = run(tsc, ['-p', join(project, 'tsconfig.json'), '--pretty', 'false'], project);
      const output = result.stdout + result.stderr;
      // tfjs-layers 4.x's own declarations do not pass strictNullChecks (its Shape holds nulls its
      // interfaces do not allow): every strict project that checks libraries sees those errors.
      // Everything else, the library's declarations and the consumer, must be clean.
      const errors = lines(output).filter((line) => /error TS\d+/.test(line));
      const tfjsLayers = errors.filter((line) => line.startsWith('node_modules/@tensorflow/tfjs-layers/'));
      assert.deepEqual(
        errors.filter((line) => !tfjsLayers.includes(line)),
        [],
        output,
      );
      assert.equal(result.status, errors.length ? 2 : 0, output);
      if (tfjsLayers.length)
        process.stdout.write(`# tsc: ${tfjsLayers.length} errors in tfjs-layers' own declarations\n`);
    });

    it('leaves one copy of @tensorflow/tfjs-core in the tree', () => {
      const { paths, versions } = copiesOf(project, '@tensorflow/tfjs-core');
      assert.deepEqual([...paths], [join(project, 'node_modules/@tensorflow/tfjs-core')]);
      assert.deepEqual([...versions], [lock.packages['node_modules/@tensorflow/tfjs-core'].version]);
    });
  });

  describe('with the CLI and the backend, install scripts not run', () => {
    before(() => {
      assert.deepEqual(backendLine, ['tfjs-backend-onednn']);
      const install = ok(
        'npm',
        [...npmInstall, '--ignore-scripts', tarballs['persistent-neurons-cli'], ...backendLine.map(installable)],
        project,
      );
      process.stdout.write(`# npm install of the CLI and the backend: ${fetches(install.stderr + install.stdout)}\n`);
      assert.ok(!existsSync(join(project, 'node_modules/tfjs-backend-onednn/build')), 'the addon was built');
    });

    it('the backend imports, warns once with the fix, and tfjs stays on cpu', () => {
      const script = `
        import * as tf from '@tensorflow/tfjs-core';
        import '@tensorflow/tfjs-backend-cpu';
        tf.enableProdMode(); // keeps tfjs's own advice to install tfjs-node off stderr
        const backend = await import('tfjs-backend-onednn');
        await tf.ready();
        console.log(JSON.stringify({ backend: tf.getBackend(), available: backend.nativeAvailable() }));
      `;
      const result = ok(process.execPath, ['--input-type=module', '-e', script], project);
      assert.deepEqual(JSON.parse(result.stdout), { backend: 'cpu', available: false });
      const warnings = lines(result.stderr);
      assert.equal(warnings.length, 1, result.stderr);
      assert.match(warnings[0], /^tfjs-backend-onednn: native addon not loaded \(not built/);
      assert.match(warnings[0], /apt-get install libdnnl-dev libopenblas-dev/);
      assert.match(warnings[0], /npm rebuild tfjs-backend-onednn/);
    });

    it('pn --version and pn list run', () => {
      const pn = join(project, 'node_modules/.bin/pn');
      const version = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).version;
      assert.equal(ok(pn, ['--version'], project).stdout.trim(), version);
      const list = ok(pn, ['list'], project);
      for (const experiment of ['toy2d', 'kink', 'lenet5-init'])
        assert.match(list.stdout, new RegExp(`^${experiment}:`, 'm'));
      assert.equal(list.stderr, '');
    });

    it('pn run says in one line, not two, that the native backend is unavailable', () => {
      const out = join(root, 'run');
      const pn = join(project, 'node_modules/.bin/pn');
      const result = ok(pn, ['run', 'toy2d', '--preset', 'smoke', '--seeds', '1', '--out', out], project);
      const backendLines = lines(result.stderr).filter((line) => /native|onednn/i.test(line));
      assert.equal(backendLines.length, 1, result.stderr);
      assert.match(
        backendLines[0],
        /^pn: running on tfjs cpu, which is far slower: tfjs-backend-onednn: native addon not loaded \(not built.*npm rebuild tfjs-backend-onednn/,
      );
      assert.ok(existsSync(join(out, 'results.json')));
    });

    it('still leaves one copy of @tensorflow/tfjs-core in the tree', () => {
      assert.equal(copiesOf(project, '@tensorflow/tfjs-core').paths.size, 1);
    });
  });
});

/** A consumer that uses the library's types strictly; it is type-checked, not run. */
const typedConsumer = `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  defaultPenaltySpec,
  LayersTask,
  layersModelWeights,
  methodOptions,
  type PenaltySpec,
  PersistentPenalty,
  restoreSnapshot,
  type Snapshot,
  takeSnapshot,
  type TrainerEvent,
  type TrainResult,
  trainPersistent,
} from 'persistent-neurons';
import { createOptimizer } from 'persistent-neurons/core';
import { kinkDefaults, type Toy2dSurface } from 'persistent-neurons/tasks';

const build = (seed: number): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ name: 'hidden', units: 8, activation: 'relu', inputShape: [1], kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ name: 'output', units: 1 }),
    ],
  });
const x: tf.Tensor2D = tf.randomNormal([32, 1]);
const y: tf.Tensor = tf.abs(x);

const model = build(1);
const weights = layersModelWeights(model);
const theta0: Snapshot = takeSnapshot(weights);
const solutions: Snapshot[] = [];
const spec: PenaltySpec = { ...defaultPenaltySpec, layers: ['hidden'] };
for (let k = 0; k < 2; k++) {
  restoreSnapshot(weights, theta0);
  const optimizer: tf.Optimizer = createOptimizer({ name: 'sgd', learningRate: 0.05 });
  const penalty = new PersistentPenalty({ theta0, previousSolutions: solutions, spec });
  optimizer.minimize(() => tf.add(tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor), penalty.value(weights, 0.5)) as tf.Scalar);
  penalty.dispose();
  solutions.push(takeSnapshot(weights));
}

const task = new LayersTask({
  build,
  seed: 1,
  train: { x, y },
  validation: { x, y },
  batchSize: 8,
  loss: (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar,
  metric: { name: 'mse', higherIsBetter: false, compute: (t, p) => tf.losses.meanSquaredError(t, p).dataSync()[0] },
});
const onEvent = (event: TrainerEvent): void => {
  if (event.type === 'trajectory') console.log(event.records[0].valMetric.toFixed(4));
};
const result: TrainResult = await trainPersistent(task, {
  ...methodOptions('persistent', { trajectories: 2, epochs: 1, optimizer: { name: 'sgd', learningRate: 0.05 }, penalty: spec }),
  onEvent,
});
const selected: number = result.selected[0];
const surface: Toy2dSurface | undefined = undefined;
console.log(selected, kinkDefaults.hidden.length, surface);
`;

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import { projectVersion } from '../../src/experiments/environment.js';
import { resolveConfig } from '../../src/experiments/run.js';
import { resultsSchema } from '../../src/report/results-schema.js';
import { sweepFileSchema } from '../../src/sweep/state.js';
import {
  assertNoProcessesWith,
  assertSameResults,
  killAll,
  killServers,
  type Pn,
  pn,
  readJson,
  skipWithoutRedis,
  sleep,
  startTestRedis,
  type TestRedis,
} from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'pn-sweep-'));
const KINK = ['sweep', 'kink', '--preset', 'smoke', '--grid', 'penalty.lambda=0.01,0.03'];
/** BullMQ queues a test opened, closed after it. */
const queues: Queue[] = [];
function openQueue(name: string, url: string): Queue {
  const queue = new Queue(name, { connection: { url }, prefix: 'pn' });
  queue.on('error', () => {});
  queues.push(queue);
  return queue;
}
const sweepOf = (dir: string) => sweepFileSchema.parse(readJson(join(dir, 'sweep.json')));
const pointDirs = (dir: string) => readdirSync(join(dir, 'points')).map((name) => join(dir, 'points', name));

/** `pn run` of the same experiment and config, for comparison. */
async function pnRun(name: string, out: string, sets: string[]): Promise<string> {
  const run = await pn(['run', name, '--preset', 'smoke', ...sets.flatMap((s) => ['--set', s]), '--out', out]).done;
  assert.equal(run.code, 0, run.stderr);
  return out;
}

async function finished(p: Pn, code: number) {
  const result = await p.done;
  assert.equal(result.code, code, `exit ${result.code} (${result.signal}):\n${result.stderr}`);
  return result;
}

describe('pn sweep and pn worker on a real Redis', { skip: skipWithoutRedis }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startTestRedis();
  });
  // A failing test leaves no pn process to the next (nor a Queue connection, nor a sweep's registry entry).
  afterEach(async () => {
    killAll();
    for (const queue of queues.splice(0)) await queue.close();
    if (redis) redis.cli('del', 'pn:sweeps');
  });
  after(async () => {
    killServers();
    await redis?.stop();
  });

  test('bad input: exit 2 within 15 s with one line; nothing written, nothing enqueued', async () => {
    // Port 1 (tcpmux) has no listener: connections are refused at once.
    const closed = 'redis://127.0.0.1:1';
    const out = join(scratch, 'never');
    const cases: [string[], RegExp][] = [
      [[...KINK, '--queue', closed, '--out', out], /^pn: cannot reach the queue redis:\/\/127.0.0.1:1 \(/],
      [
        [...KINK, '--queue', `redis://:wrong@127.0.0.1:${redis.port}`, '--out', out],
        /^pn: the queue redis:\/\/:\*\*\*@127.0.0.1:\d+ refused the password/,
      ],
      [[...KINK, '--queue', `redis://127.0.0.1:${redis.port}`, '--out', out], /needs a password \(NOAUTH\)/],
      [
        ['sweep', 'kink', '--preset', 'smoke', '--grid', 'penalty.lambda=0.01,-1', '--queue', redis.url, '--out', out],
        /^pn: grid point penalty.lambda=-1: invalid kink config: penalty.lambda: /,
      ],
      [['sweep', 'kink', '--grid', 'penalty.lambda', '--out', out], /^pn: --grid needs key=v1,v2/],
      [[...KINK, '--queue', 'http://example.org', '--out', out], /must be a redis:\/\/ \(or rediss:\/\/\) URL/],
      [['worker', '--queue', closed], /^pn: cannot reach the queue/],
      [['sweep', '--status', scratch], /holds no sweep/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const started = Date.now();
        const result = await pn(args).done;
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.ok(Date.now() - started < 15_000, `${args.join(' ')} took ${Date.now() - started} ms`);
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0], message);
      }),
    );
    assert.equal(existsSync(out), false, 'nothing written');
    assert.equal(redis.cli('keys', '*').trim(), '', 'nothing enqueued');
  });

  test('embedded: pn sweep writes both points (equal to pn run), sweep.json and its report; no Redis or worker is left', async () => {
    const dir = join(scratch, 'embedded');
    const sweep = pn([...KINK, '--workers', '2', '--out', dir]);
    const [result, ...runs] = await Promise.all([
      finished(sweep, 0),
      pnRun('kink', join(scratch, 'run-0.01'), ['penalty.lambda=0.01']),
      pnRun('kink', join(scratch, 'run-0.03'), ['penalty.lambda=0.03']),
    ]);
    assert.match(result.stdout, /1\. penalty\.lambda=0\.01\s+standard/);
    const points = pointDirs(dir);
    assert.equal(points.length, 2);
    for (const [i, point] of points.entries()) {
      resultsSchema.parse(readJson(join(point, 'results.json')));
      assertSameResults(point, runs[i]);
      for (const file of [
        'config.json',
        'report.html',
        'models/persistent/seed-1/model.json',
        'models/reinit/seed-4/weights.bin',
      ])
        assert.ok(existsSync(join(point, file)), file);
    }
    const saved = sweepOf(dir);
    assert.equal(saved.status, 'done');
    // standard, standard-long and reinit ignore λ: 3 shared jobs, and persistent per point.
    assert.deepEqual([saved.totals.jobs, saved.totals.done, saved.totals.failed], [5, 5, 0]);
    assert.ok(saved.totals.bytes > 0);
    assert.equal(saved.environment.isa !== undefined && saved.environment.version === saved.version, true);
    assert.match(saved.lockHash ?? '', /^[0-9a-f]{64}$/);
    for (const job of Object.values(saved.jobs)) assert.equal(job.environment?.threads, 1);
    assert.equal(
      (readFileSync(join(dir, 'report.html'), 'utf8').match(/<svg/g) ?? []).length,
      3,
      'a plot of each method and of the paired differences to reinit and to standard-long against λ',
    );
    for (const point of saved.points)
      for (const paired of [point.pairedVsReinit, point.pairedVsStandardLong])
        assert.equal(typeof paired?.persistent.valMetric.pHolmGrid, 'number', 'p Holm-adjusted across the grid');
    assert.equal(existsSync(join(dir, 'redis')), false, 'the embedded Redis is removed once collected');
    assert.equal(existsSync(join(dir, 'queue.json')), false);
    await assertNoProcessesWith(dir);
  });

  test('embedded: Ctrl-C, then SIGKILL of the coordinator leave no process; --resume finishes with the same results', async () => {
    const dir = join(scratch, 'interrupted');
    const first = pn([...KINK, '--workers', '2', '--out', dir]);
    await first.waitFor(/started on/);
    first.child.kill('SIGINT');
    await finished(first, 130);
    assert.equal(sweepOf(dir).status, 'stopped');
    await assertNoProcessesWith(dir);

    const second = pn(['sweep', '--resume', dir]);
    await second.waitFor(/to run on/);
    second.child.kill('SIGKILL');
    assert.equal((await second.done).signal, 'SIGKILL');
    await assertNoProcessesWith(dir);

    const third = await finished(pn(['sweep', '--resume', dir]), 0);
    assert.match(third.stderr, /held|to run/);
    const embedded = pointDirs(join(scratch, 'embedded'));
    for (const [i, point] of pointDirs(dir).entries()) assertSameResults(point, embedded[i]);
    await assertNoProcessesWith(dir);
  });

  test('many machines: a worker killed mid-job, the coordinator killed; --resume collects what a worker isolated from the sweep files finished', async () => {
    // The sweep directory lies where the workers cannot look (a root-only folder, workers as nobody, when root).
    const hidden = mkdtempSync(join(scratch, 'coordinator-only-'));
    chmodSync(hidden, 0o700);
    const dir = join(hidden, 'external');
    const home = mkdtempSync(join(tmpdir(), 'pn-worker-home-'));
    chmodSync(home, 0o777);
    const asNobody =
      process.getuid?.() === 0 &&
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
    const workerOptions = { cwd: home, env: { HOME: home, TMPDIR: home, PN_QUEUE: '' }, asNobody };
    if (asNobody)
      assert.notEqual(
        spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', hidden]).status,
        0,
        'a worker cannot list the sweep directory',
      );

    // A sweep of another version: workers name it and take none of its jobs.
    const foreign = openQueue('sweep-aaaaaaaaaaaa', redis.url);
    await foreign.add('kink', { version: '0.0.0+other' }, { jobId: 'jforeign' });
    redis.cli(
      'hset',
      'pn:sweeps',
      'aaaaaaaaaaaa',
      JSON.stringify({
        version: '0.0.0+other',
        experiment: 'kink',
        host: 'elsewhere',
        createdAt: new Date().toISOString(),
      }),
    );

    const grid = ['sweep', 'toy2d', '--preset', 'smoke', '--set', 'epochs=600', '--grid', 'penalty.lambda=1,3'];
    const coordinator = pn([...grid, '--queue', redis.url, '--workers', '0', '--out', dir]);
    await coordinator.waitFor(/to run on/);
    const { id } = sweepOf(dir);

    const first = pn(['worker', '--queue', redis.url, '--stall-seconds', '2'], workerOptions);
    await first.waitFor(/started \(toy2d/);
    await sleep(1000);
    const children = spawnSync('pgrep', ['-P', String(first.child.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    first.child.kill('SIGKILL');
    await first.done;
    // Its job's process (BullMQ's sandbox) follows it instead of training on as an orphan.
    for (const pid of children.filter(Boolean)) {
      for (let i = 0; i < 30 && existsSync(`/proc/${pid}`) && !/\) Z/.test(readStat(pid)); i++) await sleep(100);
      assert.ok(!existsSync(`/proc/${pid}`) || /\) Z/.test(readStat(pid)), `job process ${pid} still runs`);
    }
    coordinator.child.kill('SIGKILL');
    await coordinator.done;

    // Meanwhile another worker takes the killed job again (once its lock expires) and all others.
    const second = pn(['worker', '--queue', redis.url, '--stall-seconds', '2'], workerOptions);
    const deadline = Date.now() + 120_000;
    while (redis.cli('zcard', `pn:sweep-${id}:completed`).trim() !== '5') {
      assert.ok(Date.now() < deadline, `the worker did not finish the sweep's jobs:\n${second.stderr()}`);
      await sleep(250);
    }
    assert.match(
      second.stderr(),
      /sweep aaaaaaaaaaaa \(kink, coordinator on elsewhere\) runs version 0\.0\.0\+other, this worker .*taking none of its jobs/,
    );
    assert.equal(await foreign.getJobState('jforeign'), 'waiting');

    const resumed = await finished(pn(['sweep', '--resume', dir, '--workers', '0']), 0);
    assert.equal((resumed.stderr.match(/ done on /g) ?? []).length, 5, resumed.stderr);
    assert.doesNotMatch(resumed.stderr, /started on/, 'nothing ran again');
    const run = await pnRun('toy2d', join(scratch, 'run-toy2d-3'), ['epochs=600', 'penalty.lambda=3']);
    assertSameResults(pointDirs(dir)[1], run);
    assert.equal(redis.cli('keys', `pn:sweep-${id}*`).trim(), '', 'the sweep keys are removed');
    assert.equal(redis.cli('hexists', 'pn:sweeps', id).trim(), '0');

    second.child.kill('SIGTERM');
    await second.done;
    await foreign.obliterate({ force: true });
  });

  test('a worker runs only valid jobs of registered experiments', async () => {
    // A sweep of this very version, with jobs pn sweep would never make.
    const sweep = 'bbbbbbbbbbbb';
    const queue = openQueue(`sweep-${sweep}`, redis.url);
    const valid = resolveConfig('kink', 'smoke').config;
    const payload = {
      sweep,
      version: projectVersion(),
      experiment: 'kink',
      preset: 'smoke',
      method: 'reinit',
      seeds: [1],
      config: { ...valid, methods: ['reinit'] },
      data: null,
    };
    const bad: Record<string, unknown> = {
      jexperiment: { ...payload, experiment: 'shell' },
      jconfig: { ...payload, config: { ...payload.config, epochs: -1 } },
      jmethods: { ...payload, config: { ...payload.config, methods: ['reinit', 'persistent'] } },
      jseeds: { ...payload, seeds: [99] },
      jextra: { ...payload, command: 'rm -rf /' },
      jversion: { ...payload, version: '0.0.0+other' },
    };
    for (const [id, data] of Object.entries(bad)) await queue.add('x', data, { jobId: id, attempts: 1 });
    redis.cli(
      'hset',
      'pn:sweeps',
      sweep,
      JSON.stringify({
        version: projectVersion(),
        experiment: 'kink',
        host: 'test',
        createdAt: new Date().toISOString(),
      }),
    );
    const worker = pn(['worker', '--queue', redis.url]);
    const deadline = Date.now() + 60_000;
    while (Number(redis.cli('zcard', `pn:sweep-${sweep}:failed`).trim()) < Object.keys(bad).length) {
      assert.ok(Date.now() < deadline, worker.stderr());
      await sleep(200);
    }
    const reasons = Object.fromEntries(
      await Promise.all(Object.keys(bad).map(async (id) => [id, (await queue.getJob(id))?.failedReason ?? ''])),
    );
    assert.match(reasons.jexperiment, /refused a job of "shell": no such experiment here/);
    assert.match(reasons.jconfig, /refused a job: invalid kink config: epochs/);
    assert.match(reasons.jmethods, /refused a job whose config runs reinit, persistent, not reinit alone/);
    assert.match(reasons.jseeds, /refused a job with seeds beyond the config's 1..4/);
    assert.match(reasons.jextra, /refused an invalid job \(payload: Unrecognized key: "command"\)/);
    assert.match(reasons.jversion, /refused a job of version 0.0.0\+other/);
    assert.equal(await queue.getJobCounts('completed').then((c) => c.completed), 0);
    worker.child.kill('SIGTERM');
    await worker.done;
    await queue.obliterate({ force: true });
  });

  test('Redis restarted without its data: coordinator and worker reconnect, the lost jobs run again', async () => {
    const dir = join(scratch, 'restarted');
    const worker = pn(['worker', '--queue', redis.url, '--stall-seconds', '2']);
    const sweep = pn([...KINK, '--set', 'epochs=100', '--queue', redis.url, '--workers', '0', '--out', dir]);
    await sweep.waitFor(/ done on /);
    await redis.restartEmpty();
    const result = await finished(sweep, 0);
    assert.match(result.stderr, /the queue had lost \d job\(s\)/);
    const saved = sweepOf(dir);
    assert.deepEqual([saved.totals.done, saved.totals.failed], [5, 0]);
    worker.child.kill('SIGTERM');
    await worker.done;
  });

  test(
    'a failing job is retried, then recorded failed, while the rest completes (data files differ on the worker)',
    {
      skip: existsSync(FASHION_MNIST_DIR)
        ? false
        : `${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)`,
    },
    async () => {
      const data = [join(scratch, 'fashion-a'), join(scratch, 'fashion-b')];
      for (const dir of data) {
        mkdirSync(dir);
        for (const name of readdirSync(FASHION_MNIST_DIR)) copyFileSync(join(FASHION_MNIST_DIR, name), join(dir, name));
      }
      const dir = join(scratch, 'failing');
      const grid = `data.dir=${JSON.stringify(data)}`;
      const sweep = pn([
        'sweep',
        'lenet5-init',
        '--preset',
        'smoke',
        '--grid',
        grid,
        '--queue',
        redis.url,
        '--workers',
        '0',
        '--out',
        dir,
      ]);
      await sweep.waitFor(/to run on/);
      // After the coordinator fingerprinted it, the second directory changes on the worker's machine.
      appendFileSync(join(data[1], 'README'), "not the coordinator's\n");
      const worker = pn(['worker', '--queue', redis.url]);
      const result = await finished(sweep, 1);
      worker.child.kill('SIGTERM');
      await worker.done;
      assert.match(
        result.stderr.trim().split('\n').at(-1) ?? '',
        /^pn: 8 job\(s\) failed \(\S+:\d+: data directory .*fashion-b on this machine has README, which the coordinator's has not;/,
      );
      const saved = sweepOf(dir);
      const failed = Object.values(saved.jobs).filter((job) => job.status === 'failed');
      assert.equal(failed.length, 8);
      for (const job of failed) assert.deepEqual([job.attempts, job.points], [3, [2]]);
      assert.deepEqual(
        saved.points.map((point) => point.status),
        ['done', 'failed'],
      );
      // Only the first point is written.
      const written = pointDirs(dir);
      assert.equal(written.length, 1);
      resultsSchema.parse(readJson(join(written[0], 'results.json')));
      assert.equal(saved.status, 'failed');
    },
  );
});

function readStat(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

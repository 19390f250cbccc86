// A module worker that runs the method on tfjs: webgl where the browser gives workers a WebGL
// context, cpu otherwise. It runs one job at a time and streams what the page draws.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {
  disposeResult,
  methodOptions,
  type TrainingTask,
  type TrainOptions,
  type TrainResult,
  trainPersistent,
} from 'persistent-neurons/core';
import { KinkTask, kinkDefaults, makeKinkData, surfaceGrid, Toy2dTask, toy2dDefaults } from 'persistent-neurons/tasks';
import type { BackendChoice, Job, Reply, Request } from './messages.js';

const post = (reply: Reply) => postMessage(reply);

async function startBackend(choice: BackendChoice): Promise<string> {
  tf.enableProdMode();
  // Asking for the WebGL version first keeps tfjs from logging a failed webgl start where there is none.
  const webgl = choice !== 'cpu' && tf.env().getNumber('WEBGL_VERSION') > 0 && (choice === 'webgl' || !softwareWebGL());
  if (webgl && (await tf.setBackend('webgl'))) return 'webgl';
  await tf.setBackend('cpu');
  return 'cpu';
}

/**
 * Whether WebGL is emulated on the CPU (SwiftShader, llvmpipe: browsers without a GPU). Each tfjs
 * op is then a software draw call, several times slower than tfjs's cpu backend on these small models.
 */
function softwareWebGL(): boolean {
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return true;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|software/i.test(renderer);
}

let backend: Promise<void> | null = null;

/** Streams each trajectory as it trains, in batches of about one animation frame. */
class TracedToy2dTask extends Toy2dTask {
  private points: number[] = [];
  private trajectory = 0;
  private lastSent = 0;

  // The trainer calls this right after it restored θ0 or drew a fresh start: where a trajectory begins.
  override startEpoch(trajectory: number, epoch: number): void {
    if (epoch > 0) return;
    this.trajectory = trajectory;
    this.record();
  }

  /** Adds the current point; `flush` sends what is pending at once. */
  record(flush = false): void {
    this.points.push(...this.position(0));
    if (flush || performance.now() - this.lastSent > 16) {
      post({ type: 'trajectory', trajectory: this.trajectory, points: this.points });
      this.points = [];
      this.lastSent = performance.now();
    }
  }
}

function trainLandscape({ method, start, seed, settings }: Extract<Job, { type: 'train-landscape' }>): Promise<void> {
  const task = new TracedToy2dTask({ ...toy2dDefaults, start }, [seed]);
  return train(task, {
    ...methodOptions(method, settings),
    onEvent(event) {
      if (event.type === 'step') task.record();
      if (event.type === 'trajectory') {
        task.record(true);
        post({ type: 'end', trajectory: event.trajectory, point: task.position(0), loss: event.records[0].valMetric });
      }
    },
  });
}

function kinkData() {
  const { data: spec } = kinkDefaults;
  const data = makeKinkData(spec);
  const grid = Array.from({ length: 101 }, (_, i) => spec.mean + spec.std * (-3 + (6 * i) / 100));
  return { data, grid };
}

function trainKink({ method, seed, settings, drawEvery }: Extract<Job, { type: 'train-kink' }>): Promise<void> {
  const { data, grid } = kinkData();
  const gridX = Float32Array.from(grid);
  const task = new KinkTask(data, kinkDefaults.hidden, [seed], kinkDefaults.batchSize);
  const fit = () => Array.from(task.predict(gridX)[0]);
  let steps = 0;
  return train(task, {
    ...methodOptions(method, settings),
    onEvent(event) {
      if (event.type === 'step' && ++steps % drawEvery === 0)
        post({ type: 'fit', trajectory: event.trajectory, epoch: event.epoch, y: fit() });
      if (event.type === 'trajectory')
        post({ type: 'fit-end', trajectory: event.trajectory, mse: event.records[0].valMetric, y: fit() });
    },
  });
}

/** Trains, reports the selected trajectory and frees every tensor of the run. */
async function train(task: TrainingTask, options: TrainOptions): Promise<void> {
  let result: TrainResult | undefined;
  try {
    result = await trainPersistent(task, options);
    post({ type: 'selected', trajectory: result.selected[0] });
  } finally {
    if (result) disposeResult(result);
    task.dispose?.();
  }
}

async function run(job: Job): Promise<void> {
  if (!backend) throw new Error('the page sent a job before it started this worker');
  await backend;
  switch (job.type) {
    case 'describe-landscape': {
      const { extent, start, trajectories, epochs, optimizer, penalty } = toy2dDefaults;
      const { loss } = surfaceGrid(toy2dDefaults, job.size);
      post({ type: 'landscape', extent, start, settings: { trajectories, epochs, optimizer, penalty }, loss });
      return;
    }
    case 'train-landscape':
      return trainLandscape(job);
    case 'describe-kink': {
      const { data, grid } = kinkData();
      const { trajectories, epochs, optimizer, penalty } = kinkDefaults;
      post({
        type: 'kink',
        data: { x: Array.from(data.validation.x), y: Array.from(data.validation.y) },
        grid,
        linearFitMse: data.linearFitMse,
        settings: { trajectories, epochs, optimizer, penalty },
      });
      return;
    }
    case 'train-kink':
      return trainKink(job);
  }
}

// Training yields to the event loop between batches, so a message can arrive while a job runs:
// jobs are chained, one at a time, each ending with its `done`.
let jobs: Promise<void> = Promise.resolve();

addEventListener('message', ({ data: request }: MessageEvent<Request>) => {
  if (request.type === 'start') {
    backend = startBackend(request.backend).then((name) => post({ type: 'backend', name }));
    return;
  }
  jobs = jobs.then(async () => {
    try {
      await run(request);
    } catch (error) {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
    post({ type: 'done' });
  });
});

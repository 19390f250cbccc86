// What the page and its tfjs workers say to each other. The page's main thread only draws:
// tfjs, the method and the tasks live in the workers, so training never blocks the page.
import type { Method, MethodSettings } from 'persistent-neurons/core';

export type LandscapeMethod = Extract<Method, 'persistent' | 'reinit'>;
export type KinkMethod = Extract<Method, 'standard' | 'reinit' | 'persistent'>;
export type Point = [number, number];
/** `auto`: webgl where the GPU renders it, cpu otherwise (also where WebGL is software-rendered, slower here than cpu). */
export type BackendChoice = 'auto' | 'webgl' | 'cpu';

/** What the page sends a worker: `start` once, first, then jobs one at a time. */
export type Request = { type: 'start'; backend: BackendChoice } | Job;

/** One job for a worker; every job ends with a `done` reply (after an `error` reply if it failed). */
export type Job =
  /** The toy2d surface on a size × size grid, and its default settings. */
  | { type: 'describe-landscape'; size: number }
  | { type: 'train-landscape'; method: LandscapeMethod; start: Point; seed: number; settings: MethodSettings }
  /** The kink data, the grid its fits are drawn on, and its default settings. */
  | { type: 'describe-kink' }
  /** `drawEvery`: send the current fit every this many SGD steps. */
  | { type: 'train-kink'; method: KinkMethod; seed: number; settings: MethodSettings; drawEvery: number };

export type Reply =
  /** The answer to `start`, when the worker's tfjs backend is ready. */
  | { type: 'backend'; name: string }
  | { type: 'landscape'; extent: number; start: Point; settings: MethodSettings; loss: number[][] }
  /** Points [x0, y0, x1, y1, …] to append to a trajectory (the first batch starts at its start point). */
  | { type: 'trajectory'; trajectory: number; points: number[] }
  | { type: 'end'; trajectory: number; point: Point; loss: number }
  | {
      type: 'kink';
      data: { x: number[]; y: number[] };
      grid: number[];
      /** Validation MSE of the best straight line: what a network without kinks in the data reaches. */
      linearFitMse: number;
      settings: MethodSettings;
    }
  /** The current fit on the grid, during training. */
  | { type: 'fit'; trajectory: number; epoch: number; y: number[] }
  /** Where a kink trajectory ended: its fit on the grid and its validation MSE. */
  | { type: 'fit-end'; trajectory: number; mse: number; y: number[] }
  /** The trajectory the method keeps: best by validation (loss for the landscape). */
  | { type: 'selected'; trajectory: number }
  | { type: 'error'; message: string }
  | { type: 'done' };

import type { MethodSettings } from 'persistent-neurons/core';
import { Controls, find } from './controls.js';
import type { BackendChoice, KinkMethod, Point } from './messages.js';
import { type JobReply, TrainingWorker } from './training-worker.js';

const METHODS: readonly KinkMethod[] = ['standard', 'reinit', 'persistent'];
const METHOD_COLOURS: Record<KinkMethod, string> = { standard: '#4e79a7', reinit: '#f28e2b', persistent: '#e15759' };
/** Draw the current fit every this many SGD steps (two epochs of the default data). */
const DRAW_EVERY = 8;
/**
 * The seed the page opens with: on tfjs's cpu backend, persistent training moves a kink into the
 * data for it (validation MSE 0.011) while standard and reinit stay at the best line (0.31).
 */
const DEMO_SEED = 6;

/** The data, the grid the fits are drawn on, and the default settings, as the worker describes them. */
type KinkSetting = Extract<JobReply, { type: 'kink' }>;

/**
 * The kink regression trained by standard, reinit and persistent side by side, each in its own
 * worker: the data, each method's current fit redrawn as it trains, and its final MSE.
 */
export class KinkPanel {
  private readonly workers: Record<KinkMethod, TrainingWorker>;
  private readonly plots: Record<KinkMethod, FitPlot>;
  private readonly controls: Controls;
  private setting: KinkSetting | null = null;

  constructor(section: HTMLElement, backend: { choice: BackendChoice; show: (name: string) => void }) {
    const each = <T>(make: (method: KinkMethod) => T) =>
      Object.fromEntries(METHODS.map((method) => [method, make(method)])) as Record<KinkMethod, T>;
    this.workers = each(() => new TrainingWorker(backend.choice, backend.show));
    this.plots = each((method) => new FitPlot(find(section, `figure[data-method="${method}"]`, HTMLElement), method));
    this.controls = new Controls(section, { run: () => this.run(), stop: () => this.stop() });
    this.load(find(section, '.reference', HTMLElement)).catch((error) => this.controls.fail(error));
  }

  private async load(reference: HTMLElement): Promise<void> {
    this.setting = await this.workers.standard.ask({ type: 'describe-kink' }, 'kink');
    const { settings, linearFitMse } = this.setting;
    this.controls.fill({
      trajectories: settings.trajectories,
      epochs: settings.epochs,
      lambda: settings.penalty.lambda,
      learningRate: settings.optimizer.learningRate,
      seed: DEMO_SEED,
    });
    reference.textContent = `The best straight line has validation MSE ${linearFitMse.toFixed(4)}.`;
    for (const plot of Object.values(this.plots)) plot.reset(this.setting);
    this.controls.setState('idle', 'Run trains the three methods side by side.');
  }

  private async run(): Promise<'done' | 'stopped'> {
    const { setting, controls } = this;
    if (!setting) throw new Error('the kink data has not loaded');
    const settings: MethodSettings = {
      trajectories: controls.number('trajectories'),
      epochs: controls.number('epochs'),
      optimizer: { ...setting.settings.optimizer, learningRate: controls.number('learningRate') },
      penalty: { ...setting.settings.penalty, lambda: controls.number('lambda') },
    };
    const seed = controls.number('seed');
    try {
      const outcomes = await Promise.all(
        METHODS.map((method) => {
          const plot = this.plots[method];
          plot.reset(setting);
          const job = { type: 'train-kink', method, seed, settings, drawEvery: DRAW_EVERY } as const;
          return this.workers[method].run(job, (reply) => plot.update(reply));
        }),
      );
      return outcomes.includes('stopped') ? 'stopped' : 'done';
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  private stop(): void {
    for (const worker of Object.values(this.workers)) worker.stop();
  }
}

/** One method's figure: the validation data, its fit as it trains, and its final MSE. */
class FitPlot {
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private readonly progress: HTMLElement;
  private readonly mse: HTMLOutputElement;
  private readonly trajectories: HTMLElement;
  private setting: KinkSetting | null = null;
  private current: number[] | null = null;
  /** The fit and validation MSE where each trajectory ended. */
  private ends: { y: number[]; mse: number }[] = [];
  private selected: number | null = null;
  private drawPending = false;
  /** Plot area in canvas pixels, inside the axes. */
  private readonly area = { left: 34, right: 8, top: 8, bottom: 22 };

  constructor(
    figure: HTMLElement,
    private readonly method: KinkMethod,
  ) {
    this.canvas = find(figure, 'canvas', HTMLCanvasElement);
    this.context = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    this.progress = find(figure, '.progress', HTMLElement);
    this.mse = find(figure, 'output.mse', HTMLOutputElement);
    this.trajectories = find(figure, '.trajectories', HTMLElement);
  }

  reset(setting: KinkSetting | null): void {
    this.setting = setting;
    this.current = null;
    this.ends = [];
    this.selected = null;
    this.progress.textContent = '';
    this.mse.value = '—';
    delete this.mse.dataset.mse;
    this.trajectories.textContent = '';
    this.draw();
  }

  update(reply: JobReply): void {
    if (reply.type === 'fit') {
      this.current = reply.y;
      this.progress.textContent = `trajectory ${reply.trajectory + 1}, epoch ${reply.epoch + 1}`;
    } else if (reply.type === 'fit-end') {
      this.ends[reply.trajectory] = { y: reply.y, mse: reply.mse };
      this.current = null;
      this.trajectories.textContent = `MSE per trajectory: ${this.ends.map(({ mse }) => mse.toFixed(4)).join(' · ')}`;
    } else if (reply.type === 'selected') {
      this.selected = reply.trajectory;
      const { mse } = this.ends[reply.trajectory];
      this.mse.value = mse.toFixed(4);
      this.mse.dataset.mse = String(mse);
      this.progress.textContent = `done; keeps trajectory ${reply.trajectory + 1} (lowest validation MSE)`;
      this.draw();
      return;
    }
    this.scheduleDraw();
  }

  private scheduleDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.context;
    const canvas = this.canvas;
    const setting = this.setting;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!setting) return;
    const { x, y } = setting.data;
    const xs = [Math.min(...setting.grid), Math.max(...setting.grid)];
    const pad = 0.15 * (Math.max(...y) - Math.min(...y));
    const ys = [Math.min(...y) - pad, Math.max(...y) + pad];
    const { left, right, top, bottom } = this.area;
    const width = canvas.width - left - right;
    const height = canvas.height - top - bottom;
    const toCanvas = (px: number, py: number): Point => [
      left + ((px - xs[0]) / (xs[1] - xs[0])) * width,
      top + ((ys[1] - py) / (ys[1] - ys[0])) * height,
    ];
    drawAxes(ctx, xs, ys, toCanvas, { left, top, width, height });
    ctx.fillStyle = 'rgba(90, 90, 90, 0.45)';
    x.forEach((xi, i) => {
      const [px, py] = toCanvas(xi, y[i]);
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    });
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const colour = METHOD_COLOURS[this.method];
    const curve = (values: number[], alpha: number, lineWidth: number) => {
      ctx.beginPath();
      setting.grid.forEach((gx, i) => {
        const [px, py] = toCanvas(gx, values[i]);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = colour;
      ctx.lineWidth = lineWidth;
      ctx.stroke();
      ctx.globalAlpha = 1;
    };
    // Earlier trajectories' ends faintly, then the kept one (or the one training) in bold.
    this.ends.forEach((end, k) => {
      if (k !== this.selected) curve(end.y, 0.35, 1.5);
    });
    const bold = this.selected === null ? this.current : this.ends[this.selected].y;
    if (bold) curve(bold, 1, 2.5);
    ctx.restore();
  }
}

function drawAxes(
  ctx: CanvasRenderingContext2D,
  xs: number[],
  ys: number[],
  toCanvas: (x: number, y: number) => Point,
  box: { left: number; top: number; width: number; height: number },
): void {
  ctx.strokeStyle = '#bbb';
  ctx.lineWidth = 1;
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.width, box.height);
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let value = Math.ceil(xs[0]); value <= xs[1]; value++) {
    const [px] = toCanvas(value, ys[0]);
    ctx.fillText(String(value), px, box.top + box.height + 4);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let value = Math.ceil(ys[0]); value <= ys[1]; value++) {
    const [, py] = toCanvas(xs[0], value);
    ctx.fillText(String(value), box.left - 5, py);
  }
}

import type { MethodSettings, PenaltyKind } from 'persistent-neurons/core';
import { Controls, find } from './controls.js';
import type { BackendChoice, LandscapeMethod, Point } from './messages.js';
import { TrainingWorker } from './training-worker.js';

/** One colour per trajectory, in order. */
const TRAJECTORY_COLOURS = ['#e15759', '#f28e2b', '#59a14f', '#b07aa1', '#4e79a7', '#edc948', '#9c755f', '#ff9da7'];
type Rgb = [number, number, number];
/** Filled-contour bands of the surface, light (low loss) to dark (high). */
const BANDS = 16;
const LOW: Rgb = [251, 252, 253];
const HIGH: Rgb = [61, 75, 94];

interface Trajectory {
  points: number[];
  end: { point: Point; loss: number } | null;
}

/**
 * The toy2d surface as a filled contour. Clicking sets the start θ0; Run trains K trajectories in
 * a worker and draws each as it trains, its end marked with its loss.
 */
export class LandscapePanel {
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private readonly ends: HTMLOListElement;
  private readonly worker: TrainingWorker;
  private readonly controls: Controls;
  private surface: { image: ImageData; extent: number; settings: MethodSettings } | null = null;
  private trajectories: Trajectory[] = [];
  private selected: number | null = null;
  private drawPending = false;

  constructor(section: HTMLElement, backend: { choice: BackendChoice; show: (name: string) => void }) {
    this.canvas = find(section, 'canvas', HTMLCanvasElement);
    this.context = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    this.ends = find(section, 'ol.ends', HTMLOListElement);
    this.worker = new TrainingWorker(backend.choice, backend.show);
    this.controls = new Controls(section, { run: () => this.run(), stop: () => this.worker.stop() });
    this.canvas.addEventListener('click', (event) => this.moveStart(event));
    for (const name of ['x', 'y']) find(section, `input[name="${name}"]`, HTMLInputElement).oninput = () => this.draw();
    this.load().catch((error) => this.controls.fail(error));
  }

  private async load(): Promise<void> {
    const job = { type: 'describe-landscape', size: this.canvas.width } as const;
    const { extent, settings, loss, start } = await this.worker.ask(job, 'landscape');
    this.surface = { image: contourImage(loss), extent, settings };
    this.canvas.dataset.extent = String(extent);
    this.controls.fill({
      method: 'persistent',
      trajectories: settings.trajectories,
      kind: settings.penalty.kind,
      lambda: settings.penalty.lambda,
      learningRate: settings.optimizer.learningRate,
      epochs: settings.epochs,
      seed: 1,
      x: start[0],
      y: start[1],
    });
    this.controls.setState('idle', 'Click the surface to move the start, then run.');
    this.draw();
  }

  private async run(): Promise<'done' | 'stopped'> {
    const defaults = this.surface?.settings;
    if (!defaults) throw new Error('the surface has not loaded');
    const { controls } = this;
    const settings: MethodSettings = {
      trajectories: controls.number('trajectories'),
      epochs: controls.number('epochs'),
      optimizer: { ...defaults.optimizer, learningRate: controls.number('learningRate') },
      penalty: { ...defaults.penalty, kind: controls.text('kind') as PenaltyKind, lambda: controls.number('lambda') },
    };
    this.trajectories = [];
    this.selected = null;
    this.ends.replaceChildren();
    const job = {
      type: 'train-landscape',
      method: controls.text('method') as LandscapeMethod,
      start: this.start(),
      seed: controls.number('seed'),
      settings,
    } as const;
    const outcome = await this.worker.run(job, (reply) => {
      if (reply.type === 'trajectory') {
        this.trajectory(reply.trajectory).points.push(...reply.points);
        controls.status(`Training trajectory ${reply.trajectory + 1} of ${settings.trajectories}…`);
      } else if (reply.type === 'end') {
        this.trajectory(reply.trajectory).end = { point: reply.point, loss: reply.loss };
        this.ends.append(endItem(reply.trajectory, reply.point, reply.loss));
      } else if (reply.type === 'selected') {
        this.selected = reply.trajectory;
        this.ends.children[reply.trajectory]?.classList.add('selected');
      }
      this.scheduleDraw();
    });
    this.draw();
    return outcome;
  }

  private trajectory(trajectory: number): Trajectory {
    this.trajectories[trajectory] ??= { points: [], end: null };
    return this.trajectories[trajectory];
  }

  private start(): Point {
    return [this.controls.number('x'), this.controls.number('y')];
  }

  private moveStart(event: MouseEvent): void {
    if (!this.surface || this.controls.state === 'running' || this.controls.state === 'loading') return;
    const box = this.canvas.getBoundingClientRect();
    const pixel: Point = [
      ((event.clientX - box.left) * this.canvas.width) / box.width,
      ((event.clientY - box.top) * this.canvas.height) / box.height,
    ];
    const [x, y] = this.toSurface(pixel);
    this.controls.fill({ x: x.toFixed(2), y: y.toFixed(2) });
    this.trajectories = [];
    this.selected = null;
    this.ends.replaceChildren();
    this.draw();
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
    const { context: ctx, surface } = this;
    if (!surface) return;
    ctx.putImageData(surface.image, 0, 0);
    this.drawTicks(surface.extent);
    this.trajectories.forEach(({ points }, k) => {
      if (points.length < 2) return;
      const colour = TRAJECTORY_COLOURS[k % TRAJECTORY_COLOURS.length];
      ctx.beginPath();
      for (let i = 0; i < points.length; i += 2) {
        const [px, py] = this.toCanvas([points[i], points[i + 1]]);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2.5;
      ctx.lineJoin = 'round';
      ctx.stroke();
      // Where the trajectory began: θ0, or a random start in re-initialize mode.
      const [sx, sy] = this.toCanvas([points[0], points[1]]);
      circle(ctx, sx, sy, 3.5, '#fff', colour);
    });
    this.drawStart();
    this.trajectories.forEach(({ end }, k) => {
      if (!end) return;
      const [px, py] = this.toCanvas(end.point);
      if (k === this.selected) circle(ctx, px, py, 10, null, '#1d1d1f');
      circle(ctx, px, py, 6, TRAJECTORY_COLOURS[k % TRAJECTORY_COLOURS.length], '#fff');
      label(ctx, end.loss.toFixed(3), px, py, this.canvas.width);
    });
  }

  /** The start θ0 as a black cross. */
  private drawStart(): void {
    const [px, py] = this.toCanvas(this.start());
    const ctx = this.context;
    ctx.beginPath();
    ctx.moveTo(px - 7, py - 7);
    ctx.lineTo(px + 7, py + 7);
    ctx.moveTo(px + 7, py - 7);
    ctx.lineTo(px - 7, py + 7);
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 2.5;
    ctx.stroke();
  }

  /** Integer ticks along the bottom (x) and left (y) edges. */
  private drawTicks(extent: number): void {
    const ctx = this.context;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#fff';
    for (let value = Math.ceil(-extent); value <= extent; value++) {
      const [px, py] = this.toCanvas([value, value]);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(`x=${value}`, px, this.canvas.height - 3);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      if (value !== Math.ceil(-extent)) ctx.fillText(`y=${value}`, 4, py);
    }
  }

  /** Surface coordinates to canvas pixels: the canvas spans ±extent, y upwards. */
  private toCanvas([x, y]: Point): Point {
    const extent = this.surface?.extent ?? 1;
    const last = this.canvas.width - 1;
    return [((x + extent) / (2 * extent)) * last, ((extent - y) / (2 * extent)) * last];
  }

  private toSurface([px, py]: Point): Point {
    const extent = this.surface?.extent ?? 1;
    const last = this.canvas.width - 1;
    return [-extent + (2 * extent * px) / last, extent - (2 * extent * py) / last];
  }
}

/** The loss grid (loss[iy][ix], y upwards) as filled contour bands with a darker line where bands meet. */
function contourImage(loss: number[][]): ImageData {
  const size = loss.length;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const row of loss) {
    for (const value of row) {
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
  }
  const band = (value: number) => Math.min(BANDS - 1, Math.floor(((value - low) / (high - low || 1)) * BANDS));
  // Canvas rows run downwards, the grid's y upwards.
  const bands = loss.map((row) => row.map(band)).reverse();
  const image = new ImageData(size, size);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      const b = bands[row][column];
      const edge = (bands[row][column + 1] ?? b) !== b || (bands[row + 1]?.[column] ?? b) !== b;
      const t = b / (BANDS - 1);
      const shade = edge ? 0.85 : 1;
      const offset = 4 * (row * size + column);
      for (let channel = 0; channel < 3; channel++)
        image.data[offset + channel] = (LOW[channel] + (HIGH[channel] - LOW[channel]) * t) * shade;
      image.data[offset + 3] = 255;
    }
  }
  return image;
}

function circle(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  radius: number,
  fill: string | null,
  stroke: string,
) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 2;
  ctx.stroke();
}

/** Text beside a marker, on the side with room, with a light halo to stay readable on the contour. */
function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, width: number) {
  ctx.font = 'bold 13px system-ui, sans-serif';
  const right = x + 12 + ctx.measureText(text).width < width;
  ctx.textAlign = right ? 'left' : 'right';
  ctx.textBaseline = 'middle';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.9)';
  ctx.strokeText(text, right ? x + 12 : x - 12, y);
  ctx.fillStyle = '#1d1d1f';
  ctx.fillText(text, right ? x + 12 : x - 12, y);
}

function endItem(trajectory: number, [x, y]: Point, loss: number): HTMLLIElement {
  const item = document.createElement('li');
  item.style.setProperty('--colour', TRAJECTORY_COLOURS[trajectory % TRAJECTORY_COLOURS.length]);
  Object.assign(item.dataset, { x: String(x), y: String(y), loss: String(loss) });
  item.textContent = `trajectory ${trajectory + 1}: ends at (${x.toFixed(2)}, ${y.toFixed(2)}), loss ${loss.toFixed(3)}`;
  return item;
}

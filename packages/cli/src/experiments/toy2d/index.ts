import { surfaceGrid, Toy2dTask, toy2dDefaults } from 'persistent-neurons/tasks';
import { z } from 'zod';
import { runMethods } from '../method-runner.js';
import { type CommonConfig, commonConfigShape, type Experiment } from '../types.js';
import { type Toy2dDetails, toy2dDetailsSchema, toy2dFigures } from './figures.js';

const wellSchema = z.strictObject({ x: z.number(), y: z.number(), depth: z.number(), width: z.number().positive() });

export const toy2dConfigSchema = z.strictObject({
  ...commonConfigShape,
  /** L(p) = bowl·|p|² − Σ depth·exp(−|p − c|² / 2·width²) */
  wells: z.array(wellSchema).min(1),
  bowl: z.number().nonnegative(),
  start: z.tuple([z.number(), z.number()]),
  /** Half-width of the square that `reinit` draws starts from and the plot shows. */
  extent: z.number().positive(),
  /** Record every n-th point of a trajectory. */
  recordEvery: z.number().int().positive(),
});
export type Toy2dConfig = z.infer<typeof toy2dConfigSchema> & CommonConfig;

const base: Toy2dConfig = {
  seeds: 5,
  methods: ['standard', 'standard-long', 'reinit', 'persistent'],
  ...toy2dDefaults,
  recordEvery: 5,
};

type Trajectory = Toy2dDetails['trajectories'][number];
const pathSchema = z.array(z.tuple([z.number(), z.number()]));

/** Every seed trains as one replica of one batched model. */
const SEEDS_PER_TASK = 'all' as const;

export const toy2d: Experiment<Toy2dConfig, Toy2dDetails> = {
  name: 'toy2d',
  description: 'a 2-D loss surface with several minima; gradient descent from a fixed start stops in a poor one',
  schema: toy2dConfigSchema as z.ZodType<Toy2dConfig>,
  presets: {
    smoke: { ...base, seeds: 2, trajectories: 3, epochs: 150 },
    quick: base,
    paper: { ...base, seeds: 20, trajectories: 6, epochs: 1000 },
  },
  details: toy2dDetailsSchema,
  seedsPerTask: SEEDS_PER_TASK,
  layers: () => ['point'],
  async run(config, context) {
    const { runs, details } = await runMethods(config, context, {
      seedsPerTask: SEEDS_PER_TASK,
      makeTask: (_, seeds) => new Toy2dTask(config, seeds),
      // Seed 1's path. Only reinit's starts depend on the seed; the other methods' paths are the same for all.
      probe() {
        let points: [number, number][] = [];
        return {
          schema: pathSchema,
          step: (task) => points.push(task.position(0)),
          end() {
            const path = points.filter((_, i) => i % config.recordEvery === 0 || i === points.length - 1);
            points = [];
            return path;
          },
        };
      },
      details: toy2dDetailsSchema.shape.trajectories.element,
      async finish(method, _task, result, _seeds, paths): Promise<{ details: Trajectory[] }> {
        const trajectories = paths.map((points, trajectory) => ({
          method,
          seed: 1,
          trajectory,
          points,
          endLoss: result.records[0][trajectory].valMetric,
        }));
        return { details: trajectories };
      },
    });
    return {
      metric: { name: 'loss', higherIsBetter: false },
      runs,
      details: { surface: surfaceGrid(config), start: config.start, trajectories: Object.values(details).flat() },
    };
  },
  // The surface and start are the config's, the same in every part; each part has its methods' paths.
  mergeDetails: (parts) => ({ ...parts[0], trajectories: parts.flatMap((part) => part.trajectories) }),
  figures: toy2dFigures,
  summary: (details) =>
    details.trajectories
      .filter((t) => t.method === 'persistent')
      .map((t) => {
        const [x, y] = t.points.at(-1) ?? [null, null];
        return `persistent trajectory ${t.trajectory + 1} (seed 1): ends at (${x?.toFixed(3)}, ${y?.toFixed(3)}), loss ${t.endLoss?.toFixed(4)}`;
      }),
  explorerPanel: '#landscape',
};

import { z } from 'zod';
import type { Figure } from '../../report/plots.js';
import { methodColors, panelWidth, sortMethods } from '../../report/plots.js';

/** The saturated fraction of each hidden layer's units after every trajectory (null for ReLU nets). */
export const saturationSchema = {
  saturation: z.array(
    z.object({
      method: z.string(),
      seed: z.number(),
      trajectory: z.number(),
      layers: z.record(z.string(), z.number().nullable()).nullable(),
    }),
  ),
};

type Saturation = z.infer<z.ZodObject<typeof saturationSchema>>['saturation'];

/** Mean saturation over seeds per layer and trajectory, one panel per method. */
export function saturationFigures(details: { saturation?: Saturation }): Figure[] {
  const rows = (details.saturation ?? []).flatMap(({ method, seed, trajectory, layers }) =>
    Object.entries(layers ?? {}).flatMap(([layer, value]) =>
      value === null ? [] : [{ method, seed, trajectory: trajectory + 1, layer, value }],
    ),
  );
  if (!rows.length) return [];
  const methods = sortMethods(rows.map((row) => row.method));
  const layers = [...new Set(rows.map((row) => row.layer))];
  return [
    {
      title: 'Saturated units per layer',
      caption:
        'The fraction of each hidden layer’s activations that are saturated (tanh |a| > 0.99, sigmoid a < 0.01 or > 0.99) ' +
        'on validation images at the end of every trajectory: the mean over seeds, one panel per method.',
      spec: {
        data: { values: rows },
        facet: { column: { field: 'method', type: 'nominal', sort: methods, title: null } },
        spec: {
          width: panelWidth(methods.length),
          height: 200,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'trajectory', type: 'ordinal', title: 'trajectory' },
            y: {
              field: 'value',
              type: 'quantitative',
              aggregate: 'mean',
              title: 'saturated fraction',
              scale: { domain: [0, 1] },
            },
            color: { field: 'layer', type: 'nominal', sort: layers, scale: { range: methodColors(layers) } },
          },
        },
      },
    },
  ];
}

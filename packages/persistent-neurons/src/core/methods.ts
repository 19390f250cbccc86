import type { OptimizerSpec } from './optimizers.js';
import type { PenaltySpec } from './penalty.js';
import type { TrainOptions } from './trainer.js';

/** The four methods of docs/method.md, compared with equal compute (K·E epochs, except `standard`). */
export const METHODS = ['standard', 'standard-long', 'reinit', 'persistent'] as const;
export type BaseMethod = (typeof METHODS)[number];

/**
 * A method label: one of METHODS, or `persistent-<scope>`, partial persistence: persistent
 * training whose penalty sees only the layers of a named scope (e.g. `persistent-conv`). An
 * experiment names its scopes; plain `persistent` penalizes `penalty.layers`, or every weight.
 */
export type Method = BaseMethod | `persistent-${string}`;

/** A scope name: lower-case words joined by hyphens (`conv`, `classifier`, `last-block`). */
const SCOPED = /^persistent-([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/;

/** The method a label names and its persistence scope; undefined when the label is no method. */
export function parseMethod(label: string): { method: BaseMethod; scope?: string } | undefined {
  if ((METHODS as readonly string[]).includes(label)) return { method: label as BaseMethod };
  const scope = SCOPED.exec(label)?.[1];
  return scope === undefined ? undefined : { method: 'persistent', scope };
}

export function isMethod(label: string): label is Method {
  return parseMethod(label) !== undefined;
}

/** What a config's `methods` may hold, for error messages. */
export const METHOD_SYNTAX = `${METHODS.join(', ')} or persistent-<scope>`;

export interface MethodSettings {
  /** K */
  trajectories: number;
  /** E */
  epochs: number;
  optimizer: OptimizerSpec;
  penalty: PenaltySpec;
  /** The layers of each persistence scope, by scope name (for `persistent-<scope>`). */
  scopes?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The trainer options that make `method` out of K, E, the optimizer and the penalty.
 *
 * ```ts
 * methodOptions('persistent-conv', { trajectories: 3, epochs: 2, optimizer, penalty: defaultPenaltySpec,
 *   scopes: { conv: ['conv1', 'conv2'] } }).penalty?.layers; // ['conv1', 'conv2']
 * ```
 */
export function methodOptions(method: Method, settings: MethodSettings): TrainOptions {
  const { trajectories, epochs, optimizer, penalty } = settings;
  const parsed = parseMethod(method);
  if (!parsed) throw new Error(`unknown method "${method}"; choose ${METHOD_SYNTAX}`);
  switch (parsed.method) {
    case 'standard':
      return { trajectories: 1, epochs, optimizer, restart: 'theta0' };
    case 'standard-long':
      return { trajectories: 1, epochs: trajectories * epochs, optimizer, restart: 'theta0' };
    case 'reinit':
      return { trajectories, epochs, optimizer, restart: 'reinit' };
    case 'persistent': {
      if (parsed.scope === undefined) return { trajectories, epochs, optimizer, restart: 'theta0', penalty };
      const layers = settings.scopes?.[parsed.scope];
      if (!layers) {
        const known = Object.keys(settings.scopes ?? {});
        throw new Error(
          `no persistence scope "${parsed.scope}" (method ${method}); ${known.length ? `known: ${known.join(', ')}` : 'none is defined'}`,
        );
      }
      return { trajectories, epochs, optimizer, restart: 'theta0', penalty: { ...penalty, layers } };
    }
  }
}

import * as tf from '@tensorflow/tfjs-core';

/** One weight tensor of a model, named `<layer>/<weight>` (the tfjs-layers convention). */
export interface ModelWeight {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly trainable: boolean;
}

/** An immutable copy of weights by name: θ0, or the end θ*_k of a trajectory. */
export type Snapshot = ReadonlyMap<string, tf.Tensor>;

/** The layer a weight belongs to: everything before the last `/` of its name. */
export function layerOf(weightName: string): string {
  const slash = weightName.lastIndexOf('/');
  return slash < 0 ? weightName : weightName.slice(0, slash);
}

/** Copies every weight (trainable or not). The copies are kept out of any enclosing tidy. */
export function takeSnapshot(weights: readonly ModelWeight[]): Snapshot {
  const snapshot = new Map<string, tf.Tensor>();
  for (const { name, variable } of weights) {
    if (snapshot.has(name)) throw new Error(`two weights are named "${name}"; give layers unique names`);
    snapshot.set(name, tf.keep(tf.clone(variable)));
  }
  return snapshot;
}

/** Writes a snapshot back into the weights, bit for bit. Every weight must be in the snapshot. */
export function restoreSnapshot(weights: readonly ModelWeight[], snapshot: Snapshot): void {
  for (const { name, variable } of weights) {
    const saved = snapshot.get(name);
    if (!saved) throw new Error(`snapshot has no weight "${name}": it was taken from another model`);
    variable.assign(saved);
  }
}

/**
 * For a batched model (axis 0 of every weight indexes replicas): a new snapshot whose replica r
 * is replica r of `snapshots[choice[r]]`, e.g. each replica's selected solution. Dispose it
 * after use.
 */
export function assembleReplicas(snapshots: readonly Snapshot[], choice: readonly number[]): Snapshot {
  const first = snapshots[choice[0]];
  if (!first) throw new Error(`no snapshot ${choice[0]} among ${snapshots.length}`);
  const assembled = new Map<string, tf.Tensor>();
  for (const name of first.keys()) {
    const parts = choice.map((k, r) => {
      const tensor = snapshots[k]?.get(name);
      if (!tensor) throw new Error(`snapshot ${k} has no weight "${name}"`);
      if (tensor.shape[0] !== choice.length)
        throw new Error(`weight "${name}" has ${tensor.shape[0]} replicas on axis 0, not ${choice.length}`);
      return { tensor, r };
    });
    assembled.set(
      name,
      tf.keep(
        tf.tidy(() =>
          tf.concat(
            parts.map(({ tensor, r }) => tf.slice(tensor, r, 1)),
            0,
          ),
        ),
      ),
    );
  }
  return assembled;
}

export function disposeSnapshot(snapshot: Snapshot): void {
  for (const tensor of snapshot.values()) tensor.dispose();
}

/**
 * The weights of a tfjs-layers model (trainable and not, e.g. BatchNorm moving statistics),
 * in the form the trainer and the penalty take. Names are `<layer>/<weight>` as the model
 * defines them: tfjs-layers suffixes the variable of every later model with the same layer names
 * (`conv1/kernel_3`), a count that depends on what the process built before, so a checkpoint
 * written by one process could not be read by another.
 */
export function layersModelWeights(model: {
  weights: { name: string; originalName?: string; trainable: boolean; read(): tf.Tensor }[];
}): ModelWeight[] {
  return model.weights.map((weight) => {
    const variable = weight.read();
    if (!(variable instanceof tf.Variable)) throw new Error(`weight "${weight.name}" is not a variable`);
    return { name: weight.originalName ?? weight.name, variable, trainable: weight.trainable };
  });
}

/**
 * Trainable SAM parameters: tf.Variables under the official names, in PyTorch layouts, created from
 * raw weights and written back to them (for safetensors). Used to train small SAMs (the micro-SAM);
 * the frozen SAM of the RL loop never needs them.
 */
import * as tf from '@tensorflow/tfjs';
import { SamConfig } from '../config';
import { RawWeights } from './params';
import { samWeightSpecs } from './weight-spec';

/** Buffers of the reference that are not trained (the random-Fourier matrix is a registered buffer). */
export const SAM_FROZEN_BUFFERS = new Set(['prompt_encoder.pe_layer.positional_encoding_gaussian_matrix']);

let nextSet = 0;

/**
 * Variables keyed by official name. tfjs registers variable names globally, so each set gets its
 * own prefix (`sam<k>/`, or the one given) and several sets can live in one process.
 */
export function samVariables(
  config: SamConfig,
  weights: RawWeights,
  prefix = `sam${nextSet++}`,
): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const { name, shape } of samWeightSpecs(config)) {
    const w = weights.get(name);
    if (!w) throw new Error(`samVariables: missing '${name}'`);
    vars.set(
      name,
      tf.variable(tf.tensor(w.data, shape, 'float32'), !SAM_FROZEN_BUFFERS.has(name), `${prefix}/${name}`),
    );
  }
  return vars;
}

export function weightsFromVariables(vars: Map<string, tf.Variable>): RawWeights {
  const out: RawWeights = new Map();
  for (const [name, v] of vars)
    out.set(name, { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) });
  return out;
}

import * as tf from '@tensorflow/tfjs';
import type { PromptObservation } from '../../src/env/prompt/observation';
import { Rng } from '../../src/utils/rng';

/** A random observation for network/shape tests (the embedding tensor is created here; dispose it). */
export function randomObservation(
  rng: Rng,
  opts: {
    key: string;
    h: number;
    w: number;
    c: number;
    g: number;
    nActions: number;
    textDim?: number;
    tensor?: tf.Tensor;
  },
): PromptObservation {
  const { h, w, c, g } = opts;
  const emb = new Float32Array(h * w * c);
  for (let i = 0; i < emb.length; i++) emb[i] = rng.normal();
  const mask = new Float32Array(h * w);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.random();
  const pos = new Float32Array(g * g);
  const neg = new Float32Array(g * g);
  pos[rng.int(g * g)] = 1;
  neg[rng.int(g * g)] = 1;
  const actionMask = new Uint8Array(opts.nActions).fill(1);
  actionMask[rng.int(opts.nActions)] = 0;
  const text = opts.textDim ? Float32Array.from({ length: opts.textDim }, () => rng.normal()) : undefined;
  return {
    embedding: { key: opts.key, tensor: opts.tensor ?? tf.tensor3d(emb, [h, w, c]) },
    maskProbs: mask,
    clicksPositive: pos,
    clicksNegative: neg,
    stepFraction: rng.random(),
    textVector: text,
    actionMask,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A categorical distribution over grid actions with invalid-action masking (Huang & Ontanon 2020):
 * masked logits are replaced by a large negative constant, not -Infinity, so that softmax gives
 * them exactly zero probability while p * log p stays 0 * finite = 0 (with -Infinity it is NaN).
 * Sampling and argmax run in JS on float64 with the project's seeded Rng.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../utils/rng';

export const MASKED_LOGIT = -1e9;

/** [B, A] logits with disallowed actions set to MASKED_LOGIT. `mask` is [B * A], 1 = allowed. */
export function maskLogits(logits: tf.Tensor2D, mask: Uint8Array): tf.Tensor2D {
  const [b, a] = logits.shape;
  if (mask.length !== b * a) throw new Error(`maskLogits: mask has ${mask.length} values for logits [${b}, ${a}]`);
  return tf.where(tf.tensor2d(mask, [b, a], 'bool'), logits, tf.fill([b, a], MASKED_LOGIT)) as tf.Tensor2D;
}

/** log pi(a | s) for all actions, [B, A]. */
export function logProbsAll(maskedLogits: tf.Tensor2D): tf.Tensor2D {
  return tf.logSoftmax(maskedLogits) as tf.Tensor2D;
}

/** Entropy per row, [B]; masked actions contribute exactly 0. */
export function entropy(logProbs: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), 1)) as tf.Tensor1D;
}

/** log pi(a_i | s_i) for the given actions, [B]. */
export function logProbOf(logProbs: tf.Tensor2D, actions: Int32Array): tf.Tensor1D {
  const [b, a] = logProbs.shape;
  if (actions.length !== b) throw new Error(`logProbOf: ${actions.length} actions for a batch of ${b}`);
  return tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(actions, 'int32'), a)), 1) as tf.Tensor1D;
}

function checkRow(mask: Uint8Array, offset: number, n: number, row: number): void {
  for (let i = 0; i < n; i++) if (mask[offset + i]) return;
  throw new Error(`action mask of batch row ${row} allows no action (every one of the ${n} actions is masked)`);
}

/** Sample one action per row from softmax(logits) restricted to the mask. */
export function sampleMasked(logits: Float32Array, mask: Uint8Array, nActions: number, rng: Rng): Int32Array {
  const b = logits.length / nActions;
  const out = new Int32Array(b);
  const probs = new Float64Array(nActions);
  for (let r = 0; r < b; r++) {
    const o = r * nActions;
    checkRow(mask, o, nActions, r);
    let max = -Infinity;
    for (let i = 0; i < nActions; i++) if (mask[o + i] && logits[o + i] > max) max = logits[o + i];
    let total = 0;
    for (let i = 0; i < nActions; i++) {
      probs[i] = mask[o + i] ? Math.exp(logits[o + i] - max) : 0;
      total += probs[i];
    }
    let u = rng.random() * total;
    let chosen = -1;
    for (let i = 0; i < nActions; i++) {
      if (probs[i] === 0) continue;
      chosen = i;
      u -= probs[i];
      if (u < 0) break;
    }
    out[r] = chosen;
  }
  return out;
}

/** The highest-scoring allowed action per row (ties: the lowest index). */
export function argmaxMasked(scores: Float32Array, mask: Uint8Array, nActions: number): Int32Array {
  const b = scores.length / nActions;
  const out = new Int32Array(b);
  for (let r = 0; r < b; r++) {
    const o = r * nActions;
    checkRow(mask, o, nActions, r);
    let best = -1;
    let bestV = -Infinity;
    for (let i = 0; i < nActions; i++) {
      if (mask[o + i] && (best < 0 || scores[o + i] > bestV)) {
        best = i;
        bestV = scores[o + i];
      }
    }
    out[r] = best;
  }
  return out;
}

/** log-softmax of one row over the allowed actions, in float64 (for logging and tests). */
export function maskedLogSoftmaxRow(logits: ArrayLike<number>, mask: ArrayLike<number>): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (mask[i] && logits[i] > max) max = logits[i];
  let total = 0;
  for (let i = 0; i < n; i++) if (mask[i]) total += Math.exp(logits[i] - max);
  const lse = max + Math.log(total);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mask[i] ? logits[i] - lse : -Infinity;
  return out;
}

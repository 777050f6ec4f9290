/**
 * PPO's loss on one minibatch (Schulman et al. 2017), term by term as CleanRL's ppo.py:
 *
 *   ratio      = exp(log pi(a|s) - log pi_old(a|s))
 *   pgLoss     = mean(max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)))
 *   valueLoss  = 0.5 * mean((V - R)^2), or with clipRangeVf = c:
 *                0.5 * mean(max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2))
 *   entropyLoss = -mean(H[pi(.|s)])
 *   loss       = pgLoss + entCoef * entropyLoss + vfCoef * valueLoss
 *
 * Diagnostics: approxKl = mean((ratio - 1) - log ratio) (the unbiased, non-negative estimator of
 * KL(old || new)), clipFraction = mean(|ratio - 1| > eps). SB3 differs only in dropping the 0.5 on
 * the value loss; use twice the vfCoef to match it.
 */
import * as tf from '@tensorflow/tfjs';
import { entropy, logProbOf, logProbsAll, maskLogits } from '../distributions';

export interface PpoLossConfig {
  clipRange: number;
  clipRangeVf: number | null;
  entCoef: number;
  vfCoef: number;
}

export interface PpoLossInput {
  /** Raw policy logits [B, A] (masking is applied here). */
  logits: tf.Tensor2D;
  /** [B * A], 1 = allowed. */
  actionMask: Uint8Array;
  /** Current value predictions [B]. */
  values: tf.Tensor1D;
  actions: Int32Array;
  oldLogProbs: Float32Array;
  oldValues: Float32Array;
  /** Advantages, already normalised if normalisation is on. */
  advantages: Float32Array;
  returns: Float32Array;
}

export interface PpoLossTerms {
  loss: tf.Scalar;
  pgLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropyLoss: tf.Scalar;
  approxKl: tf.Scalar;
  clipFraction: tf.Scalar;
}

export function ppoLoss(inp: PpoLossInput, cfg: PpoLossConfig): PpoLossTerms {
  const logp = logProbsAll(maskLogits(inp.logits, inp.actionMask));
  const newLogProb = logProbOf(logp, inp.actions);
  const logRatio = tf.sub(newLogProb, tf.tensor1d(inp.oldLogProbs));
  const ratio = tf.exp(logRatio);
  const adv = tf.tensor1d(inp.advantages);
  const pg1 = tf.mul(tf.neg(adv), ratio);
  const pg2 = tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - cfg.clipRange, 1 + cfg.clipRange));
  const pgLoss = tf.mean(tf.maximum(pg1, pg2)) as tf.Scalar;

  const ret = tf.tensor1d(inp.returns);
  const unclipped = tf.square(tf.sub(inp.values, ret));
  let valueLoss: tf.Scalar;
  if (cfg.clipRangeVf === null) {
    valueLoss = tf.mul(0.5, tf.mean(unclipped)) as tf.Scalar;
  } else {
    const oldV = tf.tensor1d(inp.oldValues);
    const vClipped = tf.add(oldV, tf.clipByValue(tf.sub(inp.values, oldV), -cfg.clipRangeVf, cfg.clipRangeVf));
    valueLoss = tf.mul(0.5, tf.mean(tf.maximum(unclipped, tf.square(tf.sub(vClipped, ret))))) as tf.Scalar;
  }
  const entropyLoss = tf.neg(tf.mean(entropy(logp))) as tf.Scalar;
  const loss = tf.addN([pgLoss, tf.mul(cfg.entCoef, entropyLoss), tf.mul(cfg.vfCoef, valueLoss)]) as tf.Scalar;

  const approxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)) as tf.Scalar;
  const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), cfg.clipRange), 'float32')) as tf.Scalar;
  return { loss, pgLoss, valueLoss, entropyLoss, approxKl, clipFraction };
}

/** (A - mean) / (std + 1e-8) with the unbiased std, as CleanRL and SB3; unchanged for one sample. */
export function normalizeAdvantages(adv: Float32Array): Float32Array {
  const n = adv.length;
  if (n <= 1) return adv.slice();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += adv[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (adv[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  return Float32Array.from(adv, (a) => (a - mean) / (std + 1e-8));
}

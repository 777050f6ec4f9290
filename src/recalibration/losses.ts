/**
 * The SRM's loss, as in AlignSAM: Dice + BCE between the predicted foreground map and the ground
 * truth on the action grid.
 *   BCE  = mean over cells of  max(x, 0) - x y + log(1 + exp(-|x|))     (x logits; stable form)
 *   Dice = mean over samples of 1 - (2 sum(p y) + 1) / (sum(p) + sum(y) + 1),  p = sigmoid(x)
 * (the +1 smoothing keeps Dice defined on images whose grid has no foreground cell).
 */
import * as tf from '@tensorflow/tfjs';

export interface SrmLossTerms {
  total: tf.Scalar;
  bce: tf.Scalar;
  dice: tf.Scalar;
}

/** logits and targets [B, N]; targets in [0, 1]. Call inside tidy / a gradient function. */
export function diceBceLoss(logits: tf.Tensor2D, targets: tf.Tensor2D, bceWeight = 1, diceWeight = 1): SrmLossTerms {
  if (logits.shape.join() !== targets.shape.join())
    throw new Error(`diceBceLoss: logits [${logits.shape}] and targets [${targets.shape}] differ`);
  const bce = tf.mean(
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
  ) as tf.Scalar;
  const probs = tf.sigmoid(logits);
  const inter = tf.sum(tf.mul(probs, targets), 1);
  const denom = tf.add(tf.add(tf.sum(probs, 1), tf.sum(targets, 1)), 1);
  const dice = tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1), denom))) as tf.Scalar;
  const total = tf.add(tf.mul(bce, bceWeight), tf.mul(dice, diceWeight)) as tf.Scalar;
  return { total, bce, dice };
}

/**
 * Cell targets from the ground truth on the grid (fractions, or 0/1 centre labels): 'hard'
 * thresholds at 0.5, 'soft' keeps the value.
 */
export function cellTargets(truth: ArrayLike<number>, mode: 'hard' | 'soft'): Float32Array {
  const out = new Float32Array(truth.length);
  for (let i = 0; i < out.length; i++) {
    const f = truth[i];
    if (!(f >= 0 && f <= 1)) throw new Error(`SRM: the ground truth of cell ${i} is ${f}, expected a value in [0, 1]`);
    out[i] = mode === 'hard' ? (f >= 0.5 ? 1 : 0) : f;
  }
  return out;
}

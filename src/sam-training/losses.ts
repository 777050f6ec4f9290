/**
 * SAM's training losses on mask logits (Kirillov et al. 2023, §A "Training algorithm"): a sigmoid
 * focal loss (RetinaNet's, alpha 0.25, gamma 2) and a Dice loss, mixed 20 : 1, plus the mean
 * squared error between the IoU head and each mask's actual IoU. Every function takes logits
 * [M, H, W] and a binary target [H, W] and returns one loss per mask [M], so the multimask step can
 * keep the lowest one. Built from ops with wasm gradients only.
 */
import * as tf from '@tensorflow/tfjs';

export const FOCAL_ALPHA = 0.25;
export const FOCAL_GAMMA = 2;
export const FOCAL_WEIGHT = 20;
export const DICE_WEIGHT = 1;
export const IOU_WEIGHT = 1;

/** log(sigmoid(x)) without overflow: -softplus(-x) = min(x, 0) - log(1 + exp(-|x|)). */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  const absX = tf.sqrt(tf.add(tf.square(x), 1e-12));
  return tf.sub(tf.minimum(x, 0), tf.log(tf.add(1, tf.exp(tf.neg(absX)))));
}

/** Mean sigmoid focal loss per mask: logits [M, H, W], target [H, W] of 0/1 -> [M]. */
export function sigmoidFocalLoss(
  logits: tf.Tensor3D,
  target: tf.Tensor2D,
  alpha = FOCAL_ALPHA,
  gamma = FOCAL_GAMMA,
): tf.Tensor1D {
  return tf.tidy(() => {
    const t = target.expandDims(0);
    const p = tf.sigmoid(logits);
    // Cross-entropy -[t log p + (1 - t) log(1 - p)], with log(1 - p) = logSigmoid(-x).
    const ce = tf.neg(tf.add(tf.mul(t, logSigmoid(logits)), tf.mul(tf.sub(1, t), logSigmoid(tf.neg(logits)))));
    const pT = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
    const modulator = gamma === 2 ? tf.square(tf.sub(1, pT)) : tf.pow(tf.sub(1, pT), gamma);
    const alphaT = tf.add(tf.mul(t, alpha), tf.mul(tf.sub(1, t), 1 - alpha));
    return tf.mean(tf.mul(alphaT, tf.mul(modulator, ce)), [1, 2]) as tf.Tensor1D;
  });
}

/** Dice loss per mask, 1 - (2 sum(p t) + 1) / (sum p + sum t + 1), on sigmoid probabilities -> [M]. */
export function diceLoss(logits: tf.Tensor3D, target: tf.Tensor2D, smooth = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const t = target.expandDims(0);
    const p = tf.sigmoid(logits);
    const inter = tf.sum(tf.mul(p, t), [1, 2]);
    const denom = tf.add(tf.add(tf.sum(p, [1, 2]), tf.sum(t)), smooth);
    return tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), smooth), denom)) as tf.Tensor1D;
  });
}

/** Per-mask mask loss: focalWeight * focal + diceWeight * dice -> [M] (SAM's 20 : 1 by default). */
export function maskLoss(
  logits: tf.Tensor3D,
  target: tf.Tensor2D,
  focalAlpha = FOCAL_ALPHA,
  focalWeight = FOCAL_WEIGHT,
  diceWeight = DICE_WEIGHT,
): tf.Tensor1D {
  return tf.tidy(
    () =>
      tf.add(
        tf.mul(sigmoidFocalLoss(logits, target, focalAlpha), focalWeight),
        tf.mul(diceLoss(logits, target), diceWeight),
      ) as tf.Tensor1D,
  );
}

/** IoU of each thresholded mask (logits > 0) with a binary target; plain numbers, no gradient. */
export function maskIous(logits: Float32Array, masks: number, target: Uint8Array): number[] {
  const n = target.length;
  if (logits.length !== masks * n)
    throw new Error(`maskIous: ${logits.length} logits for ${masks} masks of ${n} pixels`);
  const out: number[] = [];
  for (let m = 0; m < masks; m++) {
    let inter = 0;
    let union = 0;
    for (let i = 0; i < n; i++) {
      const p = logits[m * n + i] > 0;
      const t = target[i] !== 0;
      if (p && t) inter++;
      if (p || t) union++;
    }
    out.push(union === 0 ? 1 : inter / union);
  }
  return out;
}

/**
 * DQN's regression targets and loss.
 *
 *   y = R + (1 - done) * discount * Q_target(s', a'),
 *   a' = argmax_{a allowed in s'} Q_online(s', a)   (Double DQN, van Hasselt et al. 2016)
 *   a' = argmax_{a allowed in s'} Q_target(s', a)   (vanilla DQN)
 *
 * Actions masked in s' never enter the max. A non-terminal s' with every action masked (possible
 * only when an env truncates a state with nothing left to click) contributes 0 future value.
 */
import * as tf from '@tensorflow/tfjs';

export interface DqnTargetInput {
  rewards: Float32Array;
  dones: Uint8Array;
  discounts: Float32Array;
  /** Q_target(s', .) [B * A]. */
  nextQTarget: Float32Array;
  /** Q_online(s', .) [B * A], for Double DQN; null for vanilla. */
  nextQOnline: Float32Array | null;
  /** Action masks of s' [B * A]. */
  nextMask: Uint8Array;
  nActions: number;
}

export function dqnTargets(inp: DqnTargetInput): Float32Array {
  const b = inp.rewards.length;
  const a = inp.nActions;
  const out = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    let future = 0;
    if (!inp.dones[i]) {
      const o = i * a;
      const chooser = inp.nextQOnline ?? inp.nextQTarget;
      let best = -1;
      for (let j = 0; j < a; j++) {
        if (inp.nextMask[o + j] && (best < 0 || chooser[o + j] > chooser[o + best])) best = j;
      }
      if (best >= 0) future = inp.discounts[i] * inp.nextQTarget[o + best];
    }
    out[i] = inp.rewards[i] + future;
  }
  return out;
}

/** Mean Huber loss (smooth L1 with beta 1, PyTorch's F.smooth_l1_loss). */
export function huberLoss(pred: tf.Tensor1D, target: tf.Tensor1D): tf.Scalar {
  // 0.5 q^2 + (d - q) with q = min(d, 1): equal to the two-branch form, and every op has a gradient
  // (a comparison such as tf.less has none).
  const diff = tf.abs(tf.sub(pred, target));
  const quad = tf.minimum(diff, 1);
  return tf.mean(tf.add(tf.mul(0.5, tf.square(quad)), tf.sub(diff, quad))) as tf.Scalar;
}

/** Q(s, a) for the taken actions, [B]. */
export function gatherActions(q: tf.Tensor2D, actions: Int32Array): tf.Tensor1D {
  return tf.sum(tf.mul(q, tf.oneHot(tf.tensor1d(actions, 'int32'), q.shape[1])), 1) as tf.Tensor1D;
}

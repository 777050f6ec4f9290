/**
 * 2-D matrix products whose forward AND backward passes use only plain 2-D tf.matMul (no batch
 * dimension, no transpose flags). On the wasm backend, matMul with transposeA/transposeB falls to
 * scalar code 5-10x slower than the plain kernel ([800,64]x[64,800]: 15 ms plain, 154 ms with
 * transposeB; [8192,32]^T x [8192,32]: 31 ms with transposeA, 7 ms after an explicit transpose),
 * and tf.matMul's own gradient uses those flags. The gradients here transpose explicitly, choosing
 * the cheaper of two equal forms by the elements each transposes:
 *   dA = dy B^T = (B dy^T)^T,   dB = A^T dy = (dy^T A)^T.
 */
import * as tf from '@tensorflow/tfjs';

function gradA(dy: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  // dy [m, n], b [k, n]: transposing b costs k*n; the other form transposes dy and the result, m*n + m*k.
  const [m, n] = dy.shape;
  const k = b.shape[0];
  return k * n <= m * n + m * k
    ? tf.matMul(dy, tf.transpose(b))
    : (tf.transpose(tf.matMul(b, tf.transpose(dy))) as tf.Tensor2D);
}

function gradB(a: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  // a [m, k], dy [m, n]: transposing a costs m*k; the other form costs m*n + k*n.
  const [m, k] = a.shape;
  const n = dy.shape[1];
  return m * k <= m * n + k * n
    ? tf.matMul(tf.transpose(a), dy)
    : (tf.transpose(tf.matMul(tf.transpose(dy), a)) as tf.Tensor2D);
}

/** a [m, k] x b [k, n], differentiable in both. */
export function matMul2d(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0])
    throw new Error(`matMul2d: shapes [${a.shape}] x [${b.shape}] do not chain`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, y, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.tidy(() => gradA(dy as tf.Tensor2D, ys)), tf.tidy(() => gradB(xs, dy as tf.Tensor2D))];
      },
    };
  });
  return op(a, b) as tf.Tensor2D;
}

/**
 * constant [m, k] x w [k, n], differentiable in w only: for a large constant left factor (an image
 * embedding) this skips the gradient of the constant, which tfjs would otherwise compute.
 */
export function matMulConstLeft(constant: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  if (constant.rank !== 2 || w.rank !== 2 || constant.shape[1] !== w.shape[0])
    throw new Error(`matMulConstLeft: shapes [${constant.shape}] x [${w.shape}] do not chain`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [y, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    // Saved (a shared clone, kept until backprop) because the caller's forward scope may dispose it.
    save([constant]);
    return {
      value: tf.matMul(constant, y),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => gradB(saved[0] as tf.Tensor2D, dy as tf.Tensor2D)),
    };
  });
  return op(w) as tf.Tensor2D;
}

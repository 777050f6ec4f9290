/**
 * A per-pixel linear projection of a constant feature map, y = x W, with the gradient for W only:
 * dW = (dY^T x)^T, using explicit transposes of the small operand (tfjs-wasm's transposed matMul
 * is slow, and tf.matMul's gradient would also compute the unneeded dx, as large as x).
 * `x` must outlive the gradient computation (e.g. an embedding held by a cache or buffer).
 */
import * as tf from '@tensorflow/tfjs';

/** x [..., C] (constant), w [C, P] -> [..., P]. */
export function projectConstant(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const c = x.shape[x.shape.length - 1];
  if (w.rank !== 2 || w.shape[0] !== c)
    throw new Error(`projectConstant: weight [${w.shape}] does not fit input [${x.shape}]`);
  const p = w.shape[1] as number;
  const n = x.size / c;
  const outShape: number[] = [...x.shape.slice(0, -1), p];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [wt] = args as [tf.Tensor2D, tf.GradSaveFunc];
    return {
      value: tf.reshape(tf.matMul(tf.reshape(x, [n, c]), wt), outShape),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) =>
        tf.tidy(() => {
          if (x.isDisposed) throw new Error('projectConstant: the input was disposed before the gradient was computed');
          const dyT = tf.transpose(tf.reshape(dy as tf.Tensor, [n, p]));
          return tf.transpose(tf.matMul(dyT, tf.reshape(x, [n, c])));
        }),
    };
  });
  return op(w);
}

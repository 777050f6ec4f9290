/**
 * y[b] = avgPool_k(table[index[b]] * scale[b]) : pick a row of a table per sample, multiply it by a
 * per-sample spatial map, average over k x k blocks. Its gradient flows to `table` only (the index
 * and the scale maps are data), computed without tf.gather (whose gradient needs a kernel wasm
 * lacks and which is slow there) and without AvgPoolGrad: the pooled gradient is repeated over
 * each block (nearest-neighbour upsampling), divided by k^2, multiplied by the scale map and summed
 * per table row with one matrix product.
 *
 * In the policy network this is "embedding projection (per image) x previous mask (per step),
 * pooled towards the action grid", with many steps sharing one image.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * @param table [U, H, W, C]
 * @param index [B] row of `table` for each sample
 * @param scale [B, H, W, 1]
 * @param k pooling factor (1: no pooling); the output is [B, floor(H / k), floor(W / k), C]
 */
export function gatherScalePool(table: tf.Tensor4D, index: Int32Array, scale: tf.Tensor4D, k: number): tf.Tensor4D {
  const [u, h, w, c] = table.shape;
  const b = index.length;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`gatherScalePool: k must be an integer >= 1, got ${k}`);
  if (scale.shape[0] !== b || scale.shape[1] !== h || scale.shape[2] !== w || scale.shape[3] !== 1) {
    throw new Error(`gatherScalePool: scale must be [${b}, ${h}, ${w}, 1], got [${scale.shape}]`);
  }
  for (let i = 0; i < b; i++) {
    if (!(index[i] >= 0 && index[i] < u))
      throw new Error(`gatherScalePool: index[${i}] = ${index[i]} outside [0, ${u})`);
  }
  const hp = Math.floor(h / k);
  const wp = Math.floor(w / k);
  if (hp === 0 || wp === 0) throw new Error(`gatherScalePool: k = ${k} exceeds the grid ${h}x${w}`);
  let identity = u === b;
  for (let i = 0; identity && i < b; i++) identity = index[i] === i;
  const idx = Int32Array.from(index);

  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [tab, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    // The scale maps are needed in the backward pass; saving keeps them alive (a small copy).
    save([scale]);
    // Rows picked by a one-hot product: on wasm, tf.slice of a large tensor and tf.gather are both
    // several times slower than this matmul.
    let rows = tab;
    if (!identity) {
      const onehot = new Float32Array(b * u);
      for (let i = 0; i < b; i++) onehot[i * u + idx[i]] = 1;
      rows = tf.reshape(tf.matMul(tf.tensor2d(onehot, [b, u]), tf.reshape(tab, [u, h * w * c])), [b, h, w, c]);
    }
    const scaled = tf.mul(rows, scale) as tf.Tensor4D;
    const value = k === 1 ? scaled : (tf.avgPool(scaled, k, k, 'valid') as tf.Tensor4D);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const savedScale = saved[0] as tf.Tensor4D;
          let g = dy as tf.Tensor4D;
          if (k > 1) {
            // Repeat each pooled gradient over its k x k block; pixels cut off by 'valid' get 0.
            g = tf.div(tf.image.resizeNearestNeighbor(g, [hp * k, wp * k]), k * k) as tf.Tensor4D;
            if (hp * k !== h || wp * k !== w)
              g = tf.pad(g, [
                [0, 0],
                [0, h - hp * k],
                [0, w - wp * k],
                [0, 0],
              ]);
          }
          g = tf.mul(g, savedScale) as tf.Tensor4D;
          if (identity) return g;
          const onehotT = new Float32Array(u * b);
          for (let i = 0; i < b; i++) onehotT[idx[i] * b + i] = 1;
          return tf.reshape(tf.matMul(tf.tensor2d(onehotT, [u, b]), tf.reshape(g, [b, h * w * c])), [u, h, w, c]);
        }),
    };
  });
  return op(table) as tf.Tensor4D;
}

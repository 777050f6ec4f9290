/**
 * The policy network's first stage, fused for training:
 *   y[b] = avgPool_k( (E[index[b]] W) * scale[b] )
 * for a few constant feature maps E[u] [H, W, C] (image embeddings) shared by many samples, a
 * trainable projection W [C, P], per-sample scale maps [B, H, W, 1] (mask probabilities) and a
 * k x k average pool. The gradient is for W only:
 *   dW = sum_u E[u]^T G[u],  G[u] = sum_{b: index[b] = u} up_k(dy[b]) / k^2 * scale[b],
 * with each G[u] formed by a one-row matrix product (tf.slice and tf.gather of large tensors are
 * slow on wasm) and no transposed matMul (also slow there). The embeddings must stay alive until
 * the gradient is computed (buffers hold them).
 */
import * as tf from '@tensorflow/tfjs';

function gridOf(t: tf.Tensor, where: string): [number, number, number] {
  const s = t.shape;
  if (s.length === 3) return [s[0], s[1], s[2]];
  if (s.length === 4 && s[0] === 1) return [s[1], s[2], s[3]];
  throw new Error(`${where}: feature maps must be [H, W, C] or [1, H, W, C], got [${s}]`);
}

export function projectGatherScalePool(
  maps: tf.Tensor[],
  w: tf.Tensor,
  index: Int32Array,
  scale: tf.Tensor4D,
  k: number,
): tf.Tensor4D {
  const where = 'projectGatherScalePool';
  if (maps.length === 0) throw new Error(`${where}: no feature maps`);
  const [h, wd, c] = gridOf(maps[0], where);
  maps.forEach((m, i) => {
    const [h2, w2, c2] = gridOf(m, where);
    if (h2 !== h || w2 !== wd || c2 !== c)
      throw new Error(`${where}: map ${i} is [${h2}, ${w2}, ${c2}], map 0 is [${h}, ${wd}, ${c}]`);
  });
  if (w.rank !== 2 || w.shape[0] !== c) throw new Error(`${where}: weight [${w.shape}] does not fit ${c} channels`);
  const p = w.shape[1] as number;
  const u = maps.length;
  const b = index.length;
  const hw = h * wd;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`${where}: k must be an integer >= 1, got ${k}`);
  if (scale.shape[0] !== b || scale.shape[1] !== h || scale.shape[2] !== wd || scale.shape[3] !== 1) {
    throw new Error(`${where}: scale must be [${b}, ${h}, ${wd}, 1], got [${scale.shape}]`);
  }
  for (let i = 0; i < b; i++)
    if (!(index[i] >= 0 && index[i] < u)) throw new Error(`${where}: index[${i}] = ${index[i]} outside [0, ${u})`);
  const hp = Math.floor(h / k);
  const wp = Math.floor(wd / k);
  if (hp === 0 || wp === 0) throw new Error(`${where}: k = ${k} exceeds the grid ${h}x${wd}`);
  let identity = u === b;
  for (let i = 0; identity && i < b; i++) identity = index[i] === i;
  const idx = Int32Array.from(index);

  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [wt, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([scale]);
    const parts = maps.map((m) => tf.matMul(tf.reshape(m, [hw, c]), wt));
    const table = u === 1 ? tf.reshape(parts[0], [1, hw * p]) : tf.reshape(tf.concat(parts, 0), [u, hw * p]);
    let rows: tf.Tensor;
    if (identity) {
      rows = table;
    } else {
      const onehot = new Float32Array(b * u);
      for (let i = 0; i < b; i++) onehot[i * u + idx[i]] = 1;
      rows = tf.matMul(tf.tensor2d(onehot, [b, u]), table);
    }
    const scaled = tf.mul(tf.reshape(rows, [b, h, wd, p]), scale) as tf.Tensor4D;
    const value = k === 1 ? scaled : (tf.avgPool(scaled, k, k, 'valid') as tf.Tensor4D);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.tidy(() => {
          let g = dy as tf.Tensor4D;
          if (k > 1) {
            g = tf.div(tf.image.resizeNearestNeighbor(g, [hp * k, wp * k]), k * k) as tf.Tensor4D;
            if (hp * k !== h || wp * k !== wd)
              g = tf.pad(g, [
                [0, 0],
                [0, h - hp * k],
                [0, wd - wp * k],
                [0, 0],
              ]);
          }
          const g2 = tf.reshape(tf.mul(g, saved[0]), [b, hw * p]);
          let dwT: tf.Tensor | null = null;
          for (let m = 0; m < u; m++) {
            const sel = new Float32Array(b);
            for (let i = 0; i < b; i++) if (idx[i] === m) sel[i] = 1;
            const gu = tf.reshape(tf.matMul(tf.tensor2d(sel, [1, b]), g2), [hw, p]);
            if (maps[m].isDisposed)
              throw new Error(`${where}: feature map ${m} was disposed before the gradient was computed`);
            const term = tf.matMul(tf.transpose(gu), tf.reshape(maps[m], [hw, c])); // [p, c]
            dwT = dwT === null ? term : tf.add(dwT, term);
          }
          return tf.transpose(dwT as tf.Tensor);
        }),
    };
  });
  return op(w) as tf.Tensor4D;
}

/**
 * Adaptive average pooling (PyTorch's AdaptiveAvgPool2d) as a fixed linear map, so it works for any
 * input size (64 -> 10 is not an integer factor) and trains through matMul on every backend.
 * Output cell i along an axis averages input indices [floor(i * n / m), ceil((i + 1) * n / m)).
 */
import * as tf from '@tensorflow/tfjs';

/** [outSize, inSize] row-stochastic averaging matrix for one axis. */
export function adaptivePoolWeights(inSize: number, outSize: number): Float32Array {
  if (!(Number.isInteger(inSize) && Number.isInteger(outSize) && inSize > 0 && outSize > 0)) {
    throw new Error(`adaptivePoolWeights: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize);
    const end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) m[i * inSize + j] = 1 / (end - start);
  }
  return m;
}

/** [inH * inW, outH * outW]: the transpose of the 2-D pooling map, ready to right-multiply. */
export function adaptivePool2dMatrixT(inH: number, inW: number, outH: number, outW: number): Float32Array {
  const ph = adaptivePoolWeights(inH, outH);
  const pw = adaptivePoolWeights(inW, outW);
  const out = new Float32Array(inH * inW * outH * outW);
  const nOut = outH * outW;
  for (let gy = 0; gy < outH; gy++) {
    for (let y = 0; y < inH; y++) {
      const wy = ph[gy * inH + y];
      if (wy === 0) continue;
      for (let gx = 0; gx < outW; gx++) {
        for (let x = 0; x < inW; x++) {
          const wx = pw[gx * inW + x];
          if (wx !== 0) out[(y * inW + x) * nOut + gy * outW + gx] = wy * wx;
        }
      }
    }
  }
  return out;
}

interface PoolMatrices {
  /** [inH * inW, outH * outW] */
  mT: tf.Tensor2D;
  /** [outH * outW, inH * inW] */
  m: tf.Tensor2D;
}

/**
 * Caches the pooling matrices (small, constant) as kept tensors. The pooling op's gradient uses
 * the stored matrix directly: no transposed matMul (slow on wasm) and no gradient for the constant.
 */
export class AdaptivePool {
  private readonly mats = new Map<string, PoolMatrices>();

  private matrices(inH: number, inW: number, outH: number, outW: number): PoolMatrices {
    const key = `${inH}x${inW}->${outH}x${outW}`;
    let e = this.mats.get(key);
    if (!e) {
      const mT = tf.keep(tf.tensor2d(adaptivePool2dMatrixT(inH, inW, outH, outW), [inH * inW, outH * outW]));
      e = { mT, m: tf.keep(tf.transpose(mT)) as tf.Tensor2D };
      this.mats.set(key, e);
    }
    return e;
  }

  /** x [B, H, W, C] -> [B, outH, outW, C]. */
  pool(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    if (h === outH && w === outW) return x;
    const { mT, m } = this.matrices(h, w, outH, outW);
    // Rows are (sample, channel) pairs, columns pixels: one product pools them all.
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [rows] = args as [tf.Tensor2D, tf.GradSaveFunc];
      return {
        value: tf.matMul(rows, mT),
        gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.matMul(dy as tf.Tensor2D, m),
      };
    });
    if (c === 1) return tf.reshape(op(tf.reshape(x, [b, h * w])), [b, outH, outW, 1]);
    const rows = tf.reshape(tf.transpose(tf.reshape(x, [b, h * w, c]), [0, 2, 1]), [b * c, h * w]);
    const pooled = tf.reshape(op(rows), [b, c, outH * outW]);
    return tf.reshape(tf.transpose(pooled, [0, 2, 1]), [b, outH, outW, c]);
  }

  dispose(): void {
    for (const e of this.mats.values()) tf.dispose([e.mT, e.m]);
    this.mats.clear();
  }
}

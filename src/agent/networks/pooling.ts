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

/** Caches the pooling matrices (small, constant) as kept tensors. */
export class AdaptivePool {
  private readonly mats = new Map<string, tf.Tensor2D>();

  matrixT(inH: number, inW: number, outH: number, outW: number): tf.Tensor2D {
    const key = `${inH}x${inW}->${outH}x${outW}`;
    let m = this.mats.get(key);
    if (!m) {
      m = tf.keep(tf.tensor2d(adaptivePool2dMatrixT(inH, inW, outH, outW), [inH * inW, outH * outW]));
      this.mats.set(key, m);
    }
    return m;
  }

  /** x [B, H, W, C] -> [B, outH, outW, C]. */
  pool(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    if (h === outH && w === outW) return x;
    const m = this.matrixT(h, w, outH, outW);
    if (c === 1) return tf.reshape(tf.matMul(tf.reshape(x, [b, h * w]), m), [b, outH, outW, 1]);
    const xt = tf.reshape(tf.transpose(tf.reshape(x, [b, h * w, c]), [0, 2, 1]), [b * c, h * w]);
    const pooled = tf.reshape(tf.matMul(xt, m), [b, c, outH * outW]);
    return tf.reshape(tf.transpose(pooled, [0, 2, 1]), [b, outH, outW, c]);
  }

  dispose(): void {
    for (const m of this.mats.values()) m.dispose();
    this.mats.clear();
  }
}

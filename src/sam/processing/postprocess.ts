/**
 * The reference's mask post-processing: low-res logits -> bilinear (align_corners=False) to the
 * padded input square -> crop the resized image -> bilinear to the original size. The chain is
 * linear and separable, so it runs as two matMuls per mask (docs/sam-on-wasm.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSizeHW } from './transforms';

/** [outSize, inSize] weights of PyTorch's bilinear interpolation with align_corners=False. */
export function bilinearMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    let src = scale * (o + 0.5) - 0.5;
    if (src < 0) src = 0;
    const i0 = Math.floor(src);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const w1 = src - i0;
    m[o * inSize + i0] += 1 - w1;
    m[o * inSize + i1] += w1;
  }
  return m;
}

/** The composed map of one axis, [original, lowRes]: resize to `padded`, keep the first `kept`, resize to `original`. */
function axisMatrix(lowRes: number, padded: number, kept: number, original: number): Float32Array {
  const first = bilinearMatrix(lowRes, padded); // [padded, lowRes]
  const second = bilinearMatrix(kept, original); // [original, kept]
  const out = new Float32Array(original * lowRes);
  for (let o = 0; o < original; o++) {
    for (let k = 0; k < kept; k++) {
      const w = second[o * kept + k];
      if (w === 0) continue;
      for (let l = 0; l < lowRes; l++) out[o * lowRes + l] += w * first[k * lowRes + l];
    }
  }
  return out;
}

const cache = new Map<string, { ay: tf.Tensor2D; axT: tf.Tensor2D }>();
const CACHE_SIZE = 8;

function matrices(
  lowRes: number,
  imgSize: number,
  inputSize: ImageSizeHW,
  originalSize: ImageSizeHW,
): { ay: tf.Tensor2D; axT: tf.Tensor2D } {
  const key = `${lowRes}|${imgSize}|${inputSize.height}x${inputSize.width}|${originalSize.height}x${originalSize.width}`;
  let hit = cache.get(key);
  if (hit && !hit.ay.isDisposed) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  hit = tf.tidy(() => ({
    ay: tf.keep(
      tf.tensor2d(axisMatrix(lowRes, imgSize, inputSize.height, originalSize.height), [originalSize.height, lowRes]),
    ),
    axT: tf.keep(
      tf
        .tensor2d(axisMatrix(lowRes, imgSize, inputSize.width, originalSize.width), [originalSize.width, lowRes])
        .transpose() as tf.Tensor2D,
    ),
  }));
  cache.set(key, hit);
  if (cache.size > CACHE_SIZE) {
    const [oldest, value] = cache.entries().next().value as [string, { ay: tf.Tensor2D; axT: tf.Tensor2D }];
    cache.delete(oldest);
    tf.dispose([value.ay, value.axT]);
  }
  return hit;
}

export function postprocessMasks(
  lowResLogits: tf.Tensor3D,
  inputSize: ImageSizeHW,
  originalSize: ImageSizeHW,
  imgSize: number,
): tf.Tensor3D {
  const [count, lowRes] = lowResLogits.shape;
  const { ay, axT } = matrices(lowRes, imgSize, inputSize, originalSize);
  return tf.tidy(() => {
    const masks: tf.Tensor2D[] = [];
    for (let m = 0; m < count; m++) {
      const x = lowResLogits.slice([m, 0, 0], [1, lowRes, lowRes]).reshape([lowRes, lowRes]) as tf.Tensor2D;
      masks.push(tf.matMul(ay, tf.matMul(x, axT)));
    }
    return tf.stack(masks) as tf.Tensor3D;
  });
}

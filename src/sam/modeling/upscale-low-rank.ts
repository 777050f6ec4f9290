/**
 * The mask decoder's first upscaling product, src @ W + b (src: the transformer's image tokens
 * [HW, D]; W: the first transposed conv as [D, D']), without the [HW, D] x [D, D'] product, when
 * the image side entered the transformer as a per-image constant (no mask input). Carried through
 * each layer's norm as a recursion on the products with W: per call, two [HW, h*T] products and
 * one elementwise pass per layer, exact up to float rounding. The derivation, in the notation used
 * below (A_l, P_l, V_l, mu_l, r_l): docs/sam-on-wasm.md.
 */
import * as tf from '@tensorflow/tfjs';
import { tokenSideMatMul } from '../../tfjs-ops/gemm';
import { normAffineStep } from '../../tfjs-ops/norm-affine-step';

/** What one transformer layer contributes (per call). */
export interface ImageSideTerms {
  /** P_l [HW, h*T] */
  probs: tf.Tensor2D;
  /** V_l [h*T, D] */
  valuesOut: tf.Tensor2D;
  /** norm4's row means and 1/std, [HW, 2] */
  stats: tf.Tensor2D;
}

/** Weight-only parts of the recursion, built once. */
export interface UpscaleLowRankWeights {
  /** A_l [D, D'] for l = 0..L-1 */
  a: tf.Tensor2D[];
  /** bo_l^T A_l [D'] */
  c: tf.Tensor1D[];
  /** 1^T A_l [D'] */
  s: tf.Tensor1D[];
  /** beta_l^T A_{l+1} [D'] (plus the product's bias b on the last layer) */
  d: tf.Tensor1D[];
}

/**
 * @param w the product's weight [D, D'] and b its bias [D']
 * @param norms each layer's norm4 (gamma, beta) and image-to-token out_proj bias, in layer order
 */
export function buildUpscaleLowRankWeights(
  w: tf.Tensor2D,
  b: tf.Tensor1D,
  norms: Array<{ gamma: tf.Tensor1D; beta: tf.Tensor1D; outBias: tf.Tensor1D }>,
): UpscaleLowRankWeights {
  return tf.tidy(() => {
    const layers = norms.length;
    const a: tf.Tensor2D[] = new Array(layers);
    const c: tf.Tensor1D[] = new Array(layers);
    const s: tf.Tensor1D[] = new Array(layers);
    const d: tf.Tensor1D[] = new Array(layers);
    let next = w; // A_{l+1}
    for (let l = layers - 1; l >= 0; l--) {
      const { gamma, beta, outBias } = norms[l];
      const dl = tf.matMul(beta.expandDims(0), next).reshape([-1]) as tf.Tensor1D;
      d[l] = l === layers - 1 ? (dl.add(b) as tf.Tensor1D) : dl;
      a[l] = gamma.expandDims(1).mul(next) as tf.Tensor2D;
      c[l] = tf.matMul(outBias.expandDims(0), a[l]).reshape([-1]) as tf.Tensor1D;
      s[l] = a[l].sum(0) as tf.Tensor1D;
      next = a[l];
    }
    return { a, c, s, d } as unknown as tf.TensorContainer;
  }) as unknown as UpscaleLowRankWeights;
}

/** keys_0 A_0 [HW, D'], the per-image part. */
export function upscaleBase(keys0: tf.Tensor2D, weights: UpscaleLowRankWeights): tf.Tensor2D {
  return tf.matMul(keys0, weights.a[0]);
}

/** src @ W + b from the per-image base and each layer's terms; null where the kernel is missing. */
export function upscaleLowRank(
  base: tf.Tensor2D,
  terms: ImageSideTerms[],
  weights: UpscaleLowRankWeights,
): tf.Tensor2D | null {
  return tf.tidy(() => {
    let z: tf.Tensor2D | null = base;
    terms.forEach((t, l) => {
      if (!z) return;
      const g = tokenSideMatMul(t.probs, tf.matMul(t.valuesOut, weights.a[l]) as tf.Tensor2D);
      z = normAffineStep(z, g, t.stats, weights.c[l], weights.s[l], weights.d[l]);
    });
    return z;
  });
}

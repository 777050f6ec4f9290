/**
 * Layer norm over the last axis in one kernel on the wasm backend (inference only), optionally
 * followed by a GELU and optionally also written transposed.
 *
 * Why: written with tfjs ops, a layer norm is moments (mean, then squared deviations) followed by
 * sub, mul, mul and add, each a separate pass over the tensor through the engine: ~9 ms for a
 * [4096, 256] tensor here. The SIMD kernel (simd/kernels.c) does it in one sweep per row; without
 * it (an engine with no wasm SIMD) a JS loop over the heap does the plain form.
 *
 * No gradient is registered: differentiable callers use the tf-op form.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';
import { ACT_GELU, ACT_NONE, ACT_SCALED_GELU, simdKernels } from './simd/simd-module';

const KERNEL = 'AlignSamLayerNorm';

/** What follows the norm: nothing, the exact GELU, or the decoder's scaled GELU z + z*erf(z). */
export type NormActivation = 'none' | 'gelu' | 'scaled-gelu';

const ACT_CODE: Record<NormActivation, number> = { none: ACT_NONE, gelu: ACT_GELU, 'scaled-gelu': ACT_SCALED_GELU };

const sqrt = Math.sqrt;

interface Attrs {
  eps: number;
  act: number;
  transposed: boolean;
}

function jsLayerNorm(
  xv: Float32Array,
  g: Float32Array,
  be: Float32Array,
  o: Float32Array,
  c: number,
  eps: number,
): void {
  const rows = xv.length / c;
  for (let r = 0, off = 0; r < rows; r++, off += c) {
    let sum = 0;
    for (let k = 0; k < c; k++) sum += xv[off + k];
    const mean = sum / c;
    let sq = 0;
    for (let k = 0; k < c; k++) {
      const d = xv[off + k] - mean;
      sq += d * d;
    }
    const inv = 1 / sqrt(sq / c + eps);
    for (let k = 0; k < c; k++) o[off + k] = (xv[off + k] - mean) * inv * g[k] + be[k];
  }
}

const register = lazyWasmKernel(KERNEL, ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps, act, transposed } = attrs as unknown as Attrs;
  const b = backend as unknown as WasmHeapBackend;
  const c = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, d) => a * d, 1) / c;
  const out = b.makeOutput(x.shape, 'float32');
  const outT = transposed ? b.makeOutput([c, rows], 'float32') : null;
  const stats = transposed ? b.makeOutput([rows, 2], 'float32') : null;
  const simd = simdKernels();
  if (simd) {
    const at = (t: tf.TensorInfo) => heapAddress(b, t);
    simd.layer_norm(at(x), at(gamma), at(beta), at(out), outT ? at(outT) : 0, stats ? at(stats) : 0, rows, c, eps, act);
  } else {
    if (act !== ACT_NONE || outT) throw new Error(`${KERNEL}: activation/transposed output need the SIMD kernels`);
    // Views after makeOutput: growing the heap detaches views taken before.
    const view = (t: tf.TensorInfo) => b.typedArrayFromHeap(t) as Float32Array;
    jsLayerNorm(view(x), view(gamma), view(beta), view(out), c, eps);
  }
  return outT && stats ? [out, outT, stats] : out;
});

function usable(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, differentiable: boolean): boolean {
  if (differentiable || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return false;
  const c = x.shape[x.shape.length - 1];
  if (gamma.shape[0] !== c || beta.shape[0] !== c)
    throw new Error(`layerNorm: gamma/beta have ${gamma.shape[0]}/${beta.shape[0]} entries, the last axis ${c}`);
  return true;
}

/** The fused kernel when it applies (wasm, float32, not recording gradients); null otherwise. */
export function layerNormKernel(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  differentiable: boolean,
  activation: NormActivation = 'none',
): tf.Tensor | null {
  if (!usable(x, gamma, beta, differentiable)) return null;
  if (activation !== 'none' && !simdKernels()) return null;
  register();
  return tf.engine().runKernel(KERNEL, { x, gamma, beta }, {
    eps,
    act: ACT_CODE[activation],
    transposed: false,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export interface LayerNormParts {
  /** [rows, c] */
  y: tf.Tensor2D;
  /** y transposed, [c, rows] */
  yT: tf.Tensor2D;
  /** each row's mean and 1/sqrt(var + eps), [rows, 2] */
  stats: tf.Tensor2D;
}

/**
 * Layer norm of x [rows, c] returning y, its transpose and the row statistics from one kernel;
 * null where the SIMD kernels are not in use.
 */
export function layerNormWithTranspose(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  differentiable: boolean,
): LayerNormParts | null {
  if (!usable(x, gamma, beta, differentiable) || !simdKernels()) return null;
  register();
  const [y, yT, stats] = tf.engine().runKernel(KERNEL, { x, gamma, beta }, {
    eps,
    act: ACT_NONE,
    transposed: true,
  } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor2D[];
  return { y, yT, stats };
}

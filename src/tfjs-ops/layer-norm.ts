/**
 * Layer norm over the last axis in one kernel on the wasm backend (inference only).
 *
 * Why: written with tfjs ops, a layer norm is moments (mean, then squared deviations) followed by
 * sub, mul, mul and add, each a separate pass over the tensor through the engine: ~9 ms for a
 * [4096, 256] tensor here. One loop over the wasm heap does the same in a fraction of that, and SAM
 * runs layer norms over 1-3M values in every decoder call and encoder block.
 *
 * Statistics are accumulated in float64 (tf.moments accumulates in float32), so results agree
 * with the tf-op form to float32 rounding. No gradient is registered: differentiable callers use
 * the tf-op form.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmHeapBackend } from './wasm-heap';

const KERNEL = 'AlignSamLayerNorm';

const sqrt = Math.sqrt;
let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
      const eps = (attrs as unknown as { eps: number }).eps;
      const b = backend as unknown as WasmHeapBackend;
      const c = x.shape[x.shape.length - 1];
      const out = b.makeOutput(x.shape, 'float32');
      // Views after makeOutput: growing the heap detaches views taken before.
      const xv = b.typedArrayFromHeap(x) as Float32Array;
      const g = b.typedArrayFromHeap(gamma) as Float32Array;
      const be = b.typedArrayFromHeap(beta) as Float32Array;
      const o = b.typedArrayFromHeap(out) as Float32Array;
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
      return out;
    },
  });
}

/** The fused kernel when it applies (wasm, float32, not recording gradients); null otherwise. */
export function layerNormKernel(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, differentiable: boolean): tf.Tensor | null {
  if (differentiable || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return null;
  const c = x.shape[x.shape.length - 1];
  if (gamma.shape[0] !== c || beta.shape[0] !== c) throw new Error(`layerNorm: gamma/beta have ${gamma.shape[0]}/${beta.shape[0]} entries, the last axis ${c}`);
  register();
  return tf.engine().runKernel(KERNEL, { x, gamma, beta }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

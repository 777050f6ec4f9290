/**
 * GELU in one pass on the wasm backend (inference only), with the SIMD kernel's erf.
 *
 * Why: tfjs-wasm's Erf runs one value at a time (~9-14 ns per value here), and the exact GELU
 * written with tf ops is four engine passes; the ViT-B MLP applies it to 12.6M values per block.
 * Returns null where the kernel does not apply; callers then use the tf-op form.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';
import { ACT_GELU, ACT_SCALED_GELU, simdKernels } from './simd/simd-module';

const KERNEL = 'AlignSamGelu';
const register = lazyWasmKernel(KERNEL, ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as WasmHeapBackend;
  const out = b.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((a, d) => a * d, 1);
  simdKernels()!.gelu(heapAddress(b, x), heapAddress(b, out), n, (attrs as unknown as { act: number }).act);
  return out;
});

function run(x: tf.Tensor, act: number, differentiable: boolean): tf.Tensor | null {
  if (differentiable || x.dtype !== 'float32' || !simdKernels()) return null;
  register();
  return tf.engine().runKernel(KERNEL, { x }, { act } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** Exact GELU 0.5 x (1 + erf(x / sqrt2)) by the kernel, or null. */
export function geluKernel(x: tf.Tensor, differentiable = false): tf.Tensor | null {
  return run(x, ACT_GELU, differentiable);
}

/** z + z * erf(z) (= sqrt2 * GELU(sqrt2 * z)) by the kernel, or null. */
export function scaledGeluKernel(z: tf.Tensor, differentiable = false): tf.Tensor | null {
  return run(z, ACT_SCALED_GELU, differentiable);
}

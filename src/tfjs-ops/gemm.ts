/**
 * a [M, K] @ b [K, N] (+ bias [N]) by the unpacked SIMD kernel (simd/kernels.c), for products whose
 * right operand is new on every call, where it beats XNNPACK (which first repacks it): those with
 * the few attention tokens on one side (K or N = heads * tokens), the decoder's second upscaling
 * product (K = 64), and the encoder's per-window attention products when the attention kernel is
 * off. Large products with a fixed or reused right operand use packed-matmul.ts instead.
 * Inference only; null where the kernel does not apply (callers use tf.matMul).
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';
import { simdKernels } from './simd/simd-module';

const KERNEL = 'AlignSamGemm';
const register = lazyWasmKernel(KERNEL, ({ inputs, backend }) => {
  const { a, b, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
  const be = backend as unknown as WasmHeapBackend;
  const [m, k] = a.shape;
  const n = b.shape[1];
  const out = be.makeOutput([m, n], 'float32');
  simdKernels()!.gemm(
    heapAddress(be, a),
    heapAddress(be, b),
    bias ? heapAddress(be, bias) : 0,
    heapAddress(be, out),
    m,
    k,
    n,
  );
  return out;
});

export function gemmKernel(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  bias: tf.Tensor1D | null = null,
  differentiable = false,
): tf.Tensor2D | null {
  if (differentiable || !simdKernels() || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (a.shape[1] !== b.shape[0] || (bias && bias.shape[0] !== b.shape[1])) {
    throw new Error(`gemm: a [${a.shape}] @ b [${b.shape}]${bias ? ` + bias [${bias.shape}]` : ''} do not fit`);
  }
  if (a.size === 0 || b.size === 0) return null;
  register();
  return tf.engine().runKernel(KERNEL, bias ? { a, b, bias } : { a, b }) as tf.Tensor2D;
}

/** a @ b (+ bias): the kernel where it applies, tf.matMul otherwise. */
export function tokenSideMatMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  bias: tf.Tensor1D | null = null,
  differentiable = false,
): tf.Tensor2D {
  const kernel = gemmKernel(a, b, bias, differentiable);
  if (kernel) return kernel;
  // Not tf.fused.matMul: tfjs-wasm's fused kernel reads the bias's shape from its storage, so a
  // bias that is a reshaped view (as the decoder's folded query bias is) fails there as rank 2.
  return (bias ? tf.matMul(a, b).add(bias) : tf.matMul(a, b)) as tf.Tensor2D;
}

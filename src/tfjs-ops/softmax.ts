/**
 * Attention softmaxes as single-pass SIMD kernels on the wasm backend (inference only):
 * - relPosSoftmax: SAM's ViT attention adds decomposed relative positions to the scores before the
 *   softmax. As tf ops that is two broadcast adds over [rows, kh, kw] plus the softmax: three
 *   passes over 16.7M scores per head for a 64x64 global block. The kernel does all in one sweep.
 * - softmaxAxis0: softmax down the columns of [keys, queries] scores, which keeps the result
 *   keys-major for the product that follows (see the mask decoder's token-to-image attention).
 * Each returns null where it does not apply; callers then use the tf-op form.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';
import { simdKernels } from './simd/simd-module';

const REL_POS = 'AlignSamRelPosSoftmax';
const AXIS0 = 'AlignSamSoftmaxAxis0';
const registerRelPos = lazyWasmKernel(REL_POS, ({ inputs, attrs, backend }) => {
  const { scores, relH, relW } = inputs as { scores: tf.TensorInfo; relH: tf.TensorInfo; relW: tf.TensorInfo };
  const { kh, kw } = attrs as unknown as { kh: number; kw: number };
  const b = backend as unknown as WasmHeapBackend;
  const out = b.makeOutput(scores.shape, 'float32');
  const rows = scores.shape[0];
  simdKernels()!.rel_pos_softmax(
    heapAddress(b, scores),
    heapAddress(b, out),
    heapAddress(b, relH),
    heapAddress(b, relW),
    rows,
    kh,
    kw,
  );
  return out;
});

const registerAxis0 = lazyWasmKernel(AXIS0, ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as WasmHeapBackend;
  const out = b.makeOutput(x.shape, 'float32');
  simdKernels()!.softmax_axis0(heapAddress(b, x), heapAddress(b, out), x.shape[0], x.shape[1]);
  return out;
});

/**
 * softmax over each row of scores [rows, kh*kw] after adding relH [rows, kh] (broadcast along kw)
 * and relW [rows, kw] (broadcast along kh); null where the kernel does not apply.
 */
export function relPosSoftmax(
  scores: tf.Tensor2D,
  relH: tf.Tensor2D,
  relW: tf.Tensor2D,
  differentiable = false,
): tf.Tensor2D | null {
  if (differentiable || !simdKernels()) return null;
  const [rows, n] = scores.shape;
  const kh = relH.shape[1];
  const kw = relW.shape[1];
  if (relH.shape[0] !== rows || relW.shape[0] !== rows || kh * kw !== n) {
    throw new Error(`relPosSoftmax: scores ${scores.shape}, relH ${relH.shape}, relW ${relW.shape} do not fit`);
  }
  registerRelPos();
  return tf
    .engine()
    .runKernel(REL_POS, { scores, relH, relW }, { kh, kw } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** softmax(x, axis 0) for x [rows, cols]; null where the kernel does not apply. */
export function softmaxAxis0(x: tf.Tensor2D, differentiable = false): tf.Tensor2D | null {
  if (differentiable || x.dtype !== 'float32' || !simdKernels()) return null;
  registerAxis0();
  return tf.engine().runKernel(AXIS0, { x }) as tf.Tensor2D;
}

/**
 * Runs each hot kernel once on small data right after the module loads.
 *
 * Why: V8 starts every wasm function on its baseline compiler and swaps in optimised code only for
 * calls after the function has used up a work budget; a call already running stays on baseline
 * code to its end. Without this the encoder's first packed product (the patch embedding, ~0.15 s
 * optimised) ran ~5x slower, on baseline code. A few milliseconds of small calls here spend the
 * budgets, so the optimising compiler has run (in the background) before real work arrives.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-module';
import { disposePacked, packedMatMul, packMatrix } from '../packed-matmul';
import { gemmKernel } from '../gemm';
import { geluKernel } from '../gelu';
import { layerNormKernel } from '../layer-norm';
import { relPosSoftmax } from '../softmax';
import { relPosAttention } from '../attention';
import { packConvFilter, packedConv2dSame } from '../packed-conv2d';

export function warmUpSimdKernels(): void {
  if (!simdKernels()) return;
  tf.tidy(() => {
    const a = tf.randomUniform([64, 256], -1, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomUniform([256, 64], -1, 1, 'float32', 2) as tf.Tensor2D;
    const ones = tf.ones([256]) as tf.Tensor1D;
    for (let i = 0; i < 3; i++) {
      const packed = packMatrix(b, { bias: ones.slice(0, 64) });
      if (packed) {
        packedMatMul(a, packed);
        disposePacked(packed);
      }
      gemmKernel(a, b, null);
      geluKernel(a);
      layerNormKernel(a, ones, ones, 1e-6, false);
      relPosSoftmax(tf.matMul(a, b.slice([0, 0], [256, 16])), a.slice([0, 0], [64, 4]), a.slice([0, 4], [64, 4]));
      const tokens = a.slice([0, 0], [64, 32]) as tf.Tensor2D;
      const table = a.slice([0, 0], [15, 16]) as tf.Tensor2D;
      relPosAttention(
        tokens,
        tokens,
        tokens,
        { h: table, w: table },
        { batches: 1, heads: 2, kh: 8, kw: 8, scale: 0.25 },
      );
      const filter = packConvFilter(b.slice([0, 0], [9 * 16, 16]).reshape([3, 3, 16, 16]) as tf.Tensor4D);
      if (filter) {
        packedConv2dSame(tokens.reshape([8, 8, 32]).slice([0, 0, 0], [8, 8, 16]) as tf.Tensor3D, filter);
        disposePacked(filter);
      }
    }
  });
}

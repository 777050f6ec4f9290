/**
 * out[i, j] = r_i * (z[i, j] + g[i, j] + c[j] - mu_i * s[j]) + d[j], with (mu_i, r_i) = stats[i]:
 * one step of a matrix product carried through a layer norm (src/sam/upscale-low-rank.ts), in one
 * SIMD pass on the wasm backend. Inference only; null where the kernel does not apply.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, type WasmHeapBackend } from './wasm-heap';
import { simdKernels } from './simd/simd-module';

const KERNEL = 'AlignSamNormAffineStep';
const register = lazyWasmKernel(KERNEL, ({ inputs, backend }) => {
  const { z, g, stats, c, s, d } = inputs as Record<'z' | 'g' | 'stats' | 'c' | 's' | 'd', tf.TensorInfo>;
  const b = backend as unknown as WasmHeapBackend;
  const out = b.makeOutput(z.shape, 'float32');
  const at = (t: tf.TensorInfo) => heapAddress(b, t);
  simdKernels()!.norm_affine_step(at(z), at(g), at(stats), at(c), at(s), at(d), at(out), z.shape[0], z.shape[1]);
  return out;
});

export function normAffineStep(
  z: tf.Tensor2D,
  g: tf.Tensor2D,
  stats: tf.Tensor2D,
  c: tf.Tensor1D,
  s: tf.Tensor1D,
  d: tf.Tensor1D,
): tf.Tensor2D | null {
  if (!simdKernels()) return null;
  const [rows, n] = z.shape;
  const ok =
    g.shape[0] === rows &&
    g.shape[1] === n &&
    stats.shape[0] === rows &&
    stats.shape[1] === 2 &&
    [c, s, d].every((v) => v.shape[0] === n);
  if (!ok)
    throw new Error(
      `normAffineStep: z ${z.shape}, g ${g.shape}, stats ${stats.shape}, c/s/d ${c.shape}/${s.shape}/${d.shape} do not fit`,
    );
  register();
  return tf.engine().runKernel(KERNEL, { z, g, stats, c, s, d }) as tf.Tensor2D;
}

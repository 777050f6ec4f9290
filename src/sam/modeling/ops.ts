/**
 * Numerical building blocks shared by the SAM modules, written for the backend they run on.
 *
 * On the wasm backend only a plain 2-D matMul (no batch, no transpose flags) reaches the fast
 * XNNPACK path: a batched or transposed matMul falls back to scalar code that is 10-20x slower
 * (measured: 4096x256 @ 256x256 takes ~35 ms plain, ~700 ms with transposeB). So every product here
 * is expressed as 2-D matMuls, looping over the batch where there is one.
 */
import * as tf from '@tensorflow/tfjs';
import { geluKernel } from '../../tfjs-ops/gelu';
import { layerNormKernel } from '../../tfjs-ops/layer-norm';
import { unstack0 } from '../../tfjs-ops/unstack';
import type { LinearParams } from '../weights/params';

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

/** y = x @ w + b for x of any rank [..., in], w [in, out] (already transposed from PyTorch's [out, in]). */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor {
  const inDim = w.shape[0];
  const outDim = w.shape[1];
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inDim]) as tf.Tensor2D;
  const y = b ? tf.fused.matMul({ a: x2, b: w, bias: b }) : tf.matMul(x2, w);
  return y.reshape([...lead, outDim]);
}

/** The decoder's MLPs (the reference's `MLP`, and `MLPBlock` with ReLU): linears with a ReLU between consecutive ones. */
export function mlp(x: tf.Tensor, layers: LinearParams[]): tf.Tensor {
  return layers.reduce((h, l, j) => {
    const y = linear(h, l.w, l.b);
    return j < layers.length - 1 ? tf.relu(y) : y;
  }, x);
}

/** Batched a [B, M, K] @ b [B, K, N] -> [B, M, N], using 2-D matMuls on wasm. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, differentiable = false): tf.Tensor3D {
  if (!onWasm() || a.shape[0] === 1) {
    if (a.shape[0] === 1)
      return tf
        .matMul(a.reshape([a.shape[1], a.shape[2]]) as tf.Tensor2D, b.reshape([b.shape[1], b.shape[2]]) as tf.Tensor2D)
        .expandDims(0) as tf.Tensor3D;
    return tf.matMul(a, b);
  }
  const as = unstack0(a, differentiable) as tf.Tensor2D[];
  const bs = unstack0(b, differentiable) as tf.Tensor2D[];
  return tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i]))) as tf.Tensor3D;
}

/** Layer norm over the last axis (biased variance, as torch.nn.LayerNorm). */
export function layerNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  differentiable = true,
): tf.Tensor {
  const fused = layerNormKernel(x, gamma, beta, eps, differentiable);
  if (fused) return fused;
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(variance.add(eps).rsqrt()).mul(gamma).add(beta);
}

/** Exact (erf) GELU, as torch.nn.GELU() with approximate='none'. */
export function gelu(x: tf.Tensor, differentiable = true): tf.Tensor {
  return geluKernel(x, differentiable) ?? x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/**
 * A 2x2, stride-2 transposed convolution written as one matMul to 4*Cout channels; the result stays
 * in "sub-pixel" layout [H, W, 2, 2, Cout] (dy, dx before channels) so that per-pixel operations can
 * run before the single rearrangement into [2H, 2W, Cout]. `w` is [Cin, 4*Cout] ordered (dy, dx, c).
 */
export function convTranspose2x2Subpixel(x: tf.Tensor, w: tf.Tensor2D, bias4: tf.Tensor1D): tf.Tensor {
  return linear(x, w, bias4);
}

/** Rearrange PyTorch ConvTranspose2d weights [Cin, Cout, 2, 2] to the [Cin, 4*Cout] matMul form. */
export function convTranspose2x2Weights(wTorch: tf.Tensor4D, bias: tf.Tensor1D): { w: tf.Tensor2D; b: tf.Tensor1D } {
  const [cin, cout] = wTorch.shape;
  const w = wTorch.transpose([0, 2, 3, 1]).reshape([cin, 4 * cout]) as tf.Tensor2D;
  const b = tf.tile(bias, [4]) as tf.Tensor1D;
  return { w, b };
}

/** Softmax over the last axis. */
export function softmax(x: tf.Tensor): tf.Tensor {
  return tf.softmax(x);
}

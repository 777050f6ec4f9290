/**
 * SAM's ViT attention (softmax(scale * q k^T + relH + relW) v per window and head, with the
 * decomposed relative-position terms relH / relW computed from the block's rel_pos tables, before
 * the output projection) as one SIMD kernel call (simd/kernels.c, `attention`), for inference on
 * the wasm backend where the relaxed-SIMD build is loaded.
 *
 * Why: as tf ops, a 64x64 global block materialises 64 MB of scores per head, writes them to
 * memory and reads them back for the softmax and again for the product with v, and each head's
 * q, k and v first go through transposes into head-major layout (and the relative-position terms
 * through several more). The kernel reads the heads where the projections put them (column blocks
 * of [tokens, C]), and keeps each block of 32 queries' scores in cache from the product through
 * the softmax to the product with v.
 * Returns null where it does not apply; callers then use the tf-op form.
 */
import * as tf from '@tensorflow/tfjs';
import { heapAddress, lazyWasmKernel, withScratch, type WasmHeapBackend } from './wasm-heap';
import { simdKernels } from './simd/simd-module';
import { packedMatMulPreferred } from './packed-matmul';

const KERNEL = 'AlignSamAttention';
const register = lazyWasmKernel(KERNEL, ({ inputs, attrs, backend }) => {
  const { q, k, v, tableH, tableW } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { batches, heads, kh, kw, scale } = attrs as unknown as {
    batches: number;
    heads: number;
    kh: number;
    kw: number;
    scale: number;
  };
  const be = backend as unknown as WasmHeapBackend;
  const kernels = simdKernels()!;
  const [rows, c] = q!.shape;
  const n = rows / batches;
  const dh = c / heads;
  const out = be.makeOutput([rows, c], 'float32');
  const at = (t: tf.TensorInfo | undefined) => (t ? heapAddress(be, t) : 0);
  withScratch(be, kernels.attention_work_floats(n, dh, kh, kw), (work) =>
    kernels.attention(
      at(q),
      at(k),
      at(v),
      c,
      at(tableH),
      at(tableW),
      at(out),
      batches,
      heads,
      n,
      dh,
      kh,
      kw,
      scale,
      work,
    ),
  );
  return out;
});

export interface AttentionShape {
  /** Windows (1 for global attention); q, k, v hold their tokens one window after another. */
  batches: number;
  heads: number;
  /** The window's height and width in tokens (kh * kw tokens per window). */
  kh: number;
  kw: number;
  /** The factor on q k^T (1 / sqrt(head dim)). */
  scale: number;
}

/** A block's relative-position tables (rel_pos_h, rel_pos_w): [2 kh - 1, head dim], [2 kw - 1, head dim]. */
export interface RelPosTables {
  h: tf.Tensor2D;
  w: tf.Tensor2D;
}

/**
 * q, k, v [batches * kh * kw, C] -> [batches * kh * kw, C], with relative positions from `relPos`
 * (or none). Null where the kernel does not apply.
 */
export function relPosAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  relPos: RelPosTables | null,
  shape: AttentionShape,
  differentiable = false,
): tf.Tensor2D | null {
  if (differentiable || !packedMatMulPreferred() || q.dtype !== 'float32') return null;
  const { batches, heads, kh, kw } = shape;
  const n = kh * kw;
  const [rows, c] = q.shape;
  const fits = (t: tf.Tensor) => t.shape.length === 2 && t.shape[0] === rows && t.shape[1] === c;
  if (rows !== batches * n || c % heads !== 0 || !fits(k) || !fits(v)) {
    throw new Error(
      `relPosAttention: q [${q.shape}], k [${k.shape}], v [${v.shape}] do not fit ${batches} windows of ${kh}x${kw} tokens and ${heads} heads`,
    );
  }
  const dh = c / heads;
  if (
    relPos &&
    (relPos.h.shape[0] !== 2 * kh - 1 ||
      relPos.h.shape[1] !== dh ||
      relPos.w.shape[0] !== 2 * kw - 1 ||
      relPos.w.shape[1] !== dh)
  ) {
    throw new Error(
      `relPosAttention: rel_pos tables h [${relPos.h.shape}] / w [${relPos.w.shape}] should be [${2 * kh - 1},${dh}] / [${2 * kw - 1},${dh}]`,
    );
  }
  register();
  const inputs: tf.NamedTensorMap = relPos ? { q, k, v, tableH: relPos.h, tableW: relPos.w } : { q, k, v };
  return tf.engine().runKernel(KERNEL, inputs, { ...shape } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

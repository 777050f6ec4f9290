/**
 * The mask decoder's multi-head attention in the reference's form (`Attention` in
 * segment_anything/modeling/transformer.py): q, k and v projected to `inner` = D / downsample
 * channels, softmax(q k^T / sqrt(dh)) v per head, and a projection back to D. The fast decoder
 * runs it as written only where every side is a handful of tokens (their self-attention); its
 * cross-attention computes the same function folded (see docs/sam-on-wasm.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { LinearParams, ParamStore } from '../weights/params';
import { linear } from './ops';

export interface AttentionParams {
  q: LinearParams;
  k: LinearParams;
  v: LinearParams;
  out: LinearParams;
  heads: number;
  inner: number;
}

export function attentionParams(params: ParamStore, prefix: string, heads: number): AttentionParams {
  const q = params.linear(`${prefix}.q_proj`);
  return {
    q,
    k: params.linear(`${prefix}.k_proj`),
    v: params.linear(`${prefix}.v_proj`),
    out: params.linear(`${prefix}.out_proj`),
    heads,
    inner: q.w.shape[1],
  };
}

/** Queries q [Nq, D] attend to keys k [Nk, D] with values v [Nk, D]; returns [Nq, D]. */
export function attention(p: AttentionParams, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
  const dh = p.inner / p.heads;
  // [N, inner] -> [heads, N, dh]
  const perHead = (x: tf.Tensor2D, l: LinearParams) =>
    linear(x, l.w, l.b).reshape([x.shape[0], p.heads, dh]).transpose([1, 0, 2]) as tf.Tensor3D;
  const qh = perHead(q, p.q);
  const kh = perHead(k, p.k).transpose([0, 2, 1]) as tf.Tensor3D;
  const vh = perHead(v, p.v);
  const probs = tf.softmax(tf.matMul(qh, kh).mul(1 / Math.sqrt(dh))) as tf.Tensor3D;
  const out = tf.matMul(probs, vh).transpose([1, 0, 2]).reshape([q.shape[0], p.inner]);
  return linear(out, p.out.w, p.out.b) as tf.Tensor2D;
}

/**
 * SAM's two-way transformer (segment_anything/modeling/transformer.py) for one prompt set: tokens
 * attend to the image, the image attends back to the tokens, and a final token-to-image attention.
 * Layer 0's self-attention has no positional term and no residual; cross-attention works at
 * `dim / downsampleRate` width; LayerNorm eps is the config's (1e-5 in the reference).
 *
 * Cross-attention is folded: its projections move to the token side, so the 4096-row image side is
 * only multiplied by [D, heads * tokens] matrices and never sliced per head (slow on wasm). Where
 * the SIMD kernels are loaded, the image tokens are also kept transposed so that they are the
 * streamed operand of each product. The algebra: docs/sam-on-wasm.md; the same function written
 * as the reference writes it: reference/two-way-transformer.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { TwoWayTransformerConfig } from '../config';
import { layerNorm, linear, mlp } from './ops';
import { layerNormWithTranspose } from '../../tfjs-ops/layer-norm';
import { softmaxAxis0 } from '../../tfjs-ops/softmax';
import { tokenSideMatMul } from '../../tfjs-ops/gemm';
import type { ImageSideTerms } from './upscale-low-rank';
import { NormParams, ParamStore } from '../weights/params';
import { AttentionParams as PlainAttentionParams, attention, attentionParams } from './attention';
import { TwoWayLayerParams, twoWayTransformerParams } from './two-way-transformer-params';

interface AttentionParams extends PlainAttentionParams {
  /** k_proj weight as [inner, D] (PyTorch layout), for folding onto queries. */
  kWeightT: tf.Tensor2D;
}

type LayerParams = TwoWayLayerParams<AttentionParams>;

/**
 * Image-only inputs of layer 0 (valid when the dense prompt is no_mask_embed), computed once per
 * image: with them layer 0 never multiplies the image side by a [D, *] matrix.
 */
export interface ImageKeysCache {
  /** embedding + dense prompt, [HW, D] */
  keys: tf.Tensor2D;
  /** token-to-image k_proj(keys + pe), [HW, inner] */
  tokenToImageK: tf.Tensor2D;
  /** token-to-image v_proj(keys) transposed, [inner, HW] (see tokenToImageProjected) */
  tokenToImageVT: tf.Tensor2D;
  /** image-to-token q_proj(keys + pe), [HW, inner] */
  imageToTokenQ: tf.Tensor2D;
  /** keys @ A_0 for the mask decoder's first upscaling product (upscale-low-rank.ts), [HW, D'] */
  upscaleBase?: tf.Tensor2D;
}

/** Image-to-token attention's output and the parts it was made of. */
interface ImageToTokenResult {
  /** [HW, D] */
  out: tf.Tensor2D;
  /** [HW, h*Tq] */
  probs: tf.Tensor2D;
  /** blockdiag(v) Wo, [h*Tq, D] */
  valuesOut: tf.Tensor2D;
}

/** Block-diagonal spread of x [T, h*dh] into [h*T, h*dh]: row (j, t) keeps only head j's channels. */
function blockDiagonal(x: tf.Tensor2D, heads: number): tf.Tensor2D {
  const [t, inner] = x.shape;
  const dh = inner / heads;
  const mask = new Float32Array(heads * inner);
  for (let j = 0; j < heads; j++) mask.fill(1, j * inner + j * dh, j * inner + (j + 1) * dh);
  return x
    .expandDims(0)
    .mul(tf.tensor3d(mask, [heads, 1, inner]))
    .reshape([heads * t, inner]) as tf.Tensor2D;
}

/** Inverse of blockDiagonal: from y [h*T, h*dh] keep the diagonal blocks, giving [T, h*dh]. */
function diagonalBlocks(y: tf.Tensor2D, heads: number): tf.Tensor2D {
  const inner = y.shape[1];
  const t = y.shape[0] / heads;
  const dh = inner / heads;
  const mask = new Float32Array(heads * inner);
  for (let j = 0; j < heads; j++) mask.fill(1, j * inner + j * dh, j * inner + (j + 1) * dh);
  return y
    .reshape([heads, t, inner])
    .mul(tf.tensor3d(mask, [heads, 1, inner]))
    .sum(0) as tf.Tensor2D;
}

export class TwoWayTransformer {
  private readonly layers: LayerParams[];
  private readonly finalAttn: AttentionParams;
  private readonly normFinal: NormParams;
  /** Built over trainable variables: use only ops with gradients. */
  private readonly differentiable: boolean;

  constructor(
    readonly config: TwoWayTransformerConfig,
    params: ParamStore,
    prefix: string,
  ) {
    this.differentiable = params.differentiable;
    const folded = (p: string): AttentionParams => ({
      ...attentionParams(params, p, config.numHeads),
      kWeightT: params.tensor(`${p}.k_proj.weight`) as tf.Tensor2D,
    });
    const tree = twoWayTransformerParams(config, params, prefix, folded);
    this.layers = tree.layers;
    this.finalAttn = tree.finalAttn;
    this.normFinal = tree.normFinal;
  }

  /** Each layer's norm4 and image-to-token out_proj bias (for upscale-low-rank.ts). */
  imageSideNorms(): Array<{ gamma: tf.Tensor1D; beta: tf.Tensor1D; outBias: tf.Tensor1D }> {
    return this.layers.map((l) => ({ gamma: l.norm4.gamma, beta: l.norm4.beta, outBias: l.imageToToken.out.b! }));
  }

  buildKeysCache(keys: tf.Tensor2D, pe: tf.Tensor2D): ImageKeysCache {
    const l0 = this.layers[0];
    return tf.tidy(() => {
      const keysPe = keys.add(pe);
      return {
        keys: keys.clone(),
        tokenToImageK: linear(keysPe, l0.tokenToImage.k.w, l0.tokenToImage.k.b) as tf.Tensor2D,
        tokenToImageVT: (linear(keys, l0.tokenToImage.v.w, l0.tokenToImage.v.b) as tf.Tensor2D).transpose(),
        imageToTokenQ: linear(keysPe, l0.imageToToken.q.w, l0.imageToToken.q.b) as tf.Tensor2D,
      };
    }) as unknown as ImageKeysCache;
  }

  /**
   * Run the transformer for one prompt set. `tokens` [Tq, D] are also the query positional
   * encoding (as in the reference); `keys` [HW, D] or the layer-0 cache; `pe` [HW, D].
   * Returns the final queries and keys [HW, D]. Only the first `outputRows` queries (the IoU and
   * mask tokens) are read by the heads, and the final attention treats query rows independently,
   * so it runs on those rows alone unless `outputRows` is omitted.
   * With the layer-0 cache and the SIMD kernels, also each layer's image-side terms (for
   * upscale-low-rank.ts); null otherwise.
   */
  forward(
    tokens: tf.Tensor2D,
    keysOrCache: tf.Tensor2D | ImageKeysCache,
    pe: tf.Tensor2D,
    outputRows?: number,
  ): { queries: tf.Tensor2D; keys: tf.Tensor2D; imageSide: ImageSideTerms[] | null } {
    return tf.tidy((): tf.TensorContainer => {
      const eps = this.config.layerNormEps;
      const cache = keysOrCache instanceof tf.Tensor ? null : keysOrCache;
      let keys = cache ? cache.keys : (keysOrCache as tf.Tensor2D);
      // keys transposed [D, HW], when the norm kernel could write it (see the file comment).
      let keysT: tf.Tensor2D | null = null;
      const imageSide: ImageSideTerms[] = [];
      let imageSideComplete = cache !== null;
      let queries = tokens;
      this.layers.forEach((p, i) => {
        if (i === 0) {
          queries = attention(p.selfAttn, queries, queries, queries);
        } else {
          const q = queries.add(tokens) as tf.Tensor2D;
          queries = queries.add(attention(p.selfAttn, q, q, queries));
        }
        queries = layerNorm(queries, p.norm1.gamma, p.norm1.beta, eps, this.differentiable) as tf.Tensor2D;
        const cached = cache !== null && i === 0;
        const keysPe = cached ? null : (keys.add(pe) as tf.Tensor2D);
        const qTok = queries.add(tokens) as tf.Tensor2D;
        const toImage = cached
          ? this.tokenToImageProjected(p.tokenToImage, qTok, cache!.tokenToImageK, cache!.tokenToImageVT)
          : this.tokenToImage(p.tokenToImage, qTok, keysPe!, keys, keysT);
        queries = layerNorm(queries.add(toImage), p.norm2.gamma, p.norm2.beta, eps, this.differentiable) as tf.Tensor2D;
        queries = layerNorm(
          queries.add(mlp(queries, [p.lin1, p.lin2])),
          p.norm3.gamma,
          p.norm3.beta,
          eps,
          this.differentiable,
        ) as tf.Tensor2D;
        const kTok = queries.add(tokens) as tf.Tensor2D;
        const toTokens = cached
          ? this.imageToTokenProjected(p.imageToToken, cache!.imageToTokenQ, kTok, queries)
          : this.imageToToken(p.imageToToken, keysPe!, kTok, queries);
        const residual = keys.add(toTokens.out) as tf.Tensor2D;
        const parts = layerNormWithTranspose(residual, p.norm4.gamma, p.norm4.beta, eps, this.differentiable);
        if (parts) {
          keys = parts.y;
          keysT = parts.yT;
          imageSide.push({ probs: toTokens.probs, valuesOut: toTokens.valuesOut, stats: parts.stats });
        } else {
          keys = layerNorm(residual, p.norm4.gamma, p.norm4.beta, eps, this.differentiable) as tf.Tensor2D;
          keysT = null;
          imageSideComplete = false;
        }
      });
      const rows = outputRows ?? queries.shape[0];
      const d = queries.shape[1];
      const q = queries.slice([0, 0], [rows, d]) as tf.Tensor2D;
      const attn = this.tokenToImage(
        this.finalAttn,
        q.add(tokens.slice([0, 0], [rows, d])) as tf.Tensor2D,
        keys.add(pe) as tf.Tensor2D,
        keys,
        keysT,
      );
      queries = layerNorm(
        q.add(attn),
        this.normFinal.gamma,
        this.normFinal.beta,
        eps,
        this.differentiable,
      ) as tf.Tensor2D;
      return { queries, keys, imageSide: imageSideComplete ? imageSide : null } as unknown as tf.TensorContainer;
    }) as unknown as { queries: tf.Tensor2D; keys: tf.Tensor2D; imageSide: ImageSideTerms[] | null };
  }

  /**
   * Tokens [Tq, D] attend to the image: keys [HW, D] (with pe), values [HW, D], and optionally the
   * values transposed [D, HW].
   */
  private tokenToImage(
    p: AttentionParams,
    q: tf.Tensor2D,
    imageKeys: tf.Tensor2D,
    imageValues: tf.Tensor2D,
    imageValuesT: tf.Tensor2D | null = null,
  ): tf.Tensor2D {
    const heads = p.heads;
    const dh = p.inner / heads;
    const qp = linear(q, p.q.w, p.q.b) as tf.Tensor2D; // [Tq, inner]
    // Per-head queries pulled back through k_proj: [h*Tq, D].
    const qFolded = tf.matMul(blockDiagonal(qp, heads), p.kWeightT).mul(1 / Math.sqrt(dh)) as tf.Tensor2D;
    const d = this.differentiable;
    const scoresT = tokenSideMatMul(imageKeys, qFolded.transpose() as tf.Tensor2D, null, d); // [HW, h*Tq]
    const probsT = imageValuesT ? softmaxAxis0(scoresT, d) : null;
    const mixed = probsT
      ? (tokenSideMatMul(imageValuesT!, probsT, null, d).transpose() as tf.Tensor2D) // [h*Tq, D]
      : tf.matMul(tf.softmax(scoresT.transpose() as tf.Tensor2D) as tf.Tensor2D, imageValues);
    const perHead = diagonalBlocks(tf.matMul(mixed, p.v.w), heads).add(p.v.b!); // [Tq, inner]
    return linear(perHead, p.out.w, p.out.b) as tf.Tensor2D;
  }

  /** Token-to-image attention with the image side already projected: k [HW, inner], v^T [inner, HW]. */
  private tokenToImageProjected(
    p: AttentionParams,
    q: tf.Tensor2D,
    kImage: tf.Tensor2D,
    vImageT: tf.Tensor2D,
  ): tf.Tensor2D {
    const dh = p.inner / p.heads;
    const d = this.differentiable;
    const qBlocks = blockDiagonal(linear(q, p.q.w, p.q.b) as tf.Tensor2D, p.heads).mul(1 / Math.sqrt(dh)); // [h*Tq, inner]
    const scoresT = tokenSideMatMul(kImage, qBlocks.transpose() as tf.Tensor2D, null, d); // [HW, h*Tq]
    // Keys-major probabilities, as in tokenToImage: no [HW, h*Tq] transpose.
    const probsT = softmaxAxis0(scoresT, d);
    const mixed = probsT
      ? (tokenSideMatMul(vImageT, probsT, null, d).transpose() as tf.Tensor2D)
      : (tf
          .matMul(vImageT, tf.softmax(scoresT.transpose() as tf.Tensor2D) as tf.Tensor2D, false, true)
          .transpose() as tf.Tensor2D);
    const perHead = diagonalBlocks(mixed, p.heads); // [Tq, inner]
    return linear(perHead, p.out.w, p.out.b) as tf.Tensor2D;
  }

  /** Image-to-token attention with the image queries already projected: q [HW, inner]. */
  private imageToTokenProjected(
    p: AttentionParams,
    qImage: tf.Tensor2D,
    k: tf.Tensor2D,
    v: tf.Tensor2D,
  ): ImageToTokenResult {
    const heads = p.heads;
    const dh = p.inner / heads;
    const t = k.shape[0];
    const kBlocksT = blockDiagonal(linear(k, p.k.w, p.k.b) as tf.Tensor2D, heads)
      .transpose()
      .mul(1 / Math.sqrt(dh)) as tf.Tensor2D;
    const hw = qImage.shape[0];
    const probs = tf
      .softmax(tokenSideMatMul(qImage, kBlocksT, null, this.differentiable).reshape([hw, heads, t]))
      .reshape([hw, heads * t]) as tf.Tensor2D;
    const valuesOut = tf.matMul(blockDiagonal(linear(v, p.v.w, p.v.b) as tf.Tensor2D, heads), p.out.w) as tf.Tensor2D; // [h*Tq, D]
    return { out: tokenSideMatMul(probs, valuesOut, p.out.b!, this.differentiable), probs, valuesOut };
  }

  /** The image [HW, D] (queries, with pe) attends to tokens: keys [Tq, D] (with pe), values [Tq, D]. */
  private imageToToken(
    p: AttentionParams,
    imageQueries: tf.Tensor2D,
    k: tf.Tensor2D,
    v: tf.Tensor2D,
  ): ImageToTokenResult {
    const heads = p.heads;
    const dh = p.inner / heads;
    const t = k.shape[0];
    const kBlocksT = blockDiagonal(linear(k, p.k.w, p.k.b) as tf.Tensor2D, heads).transpose() as tf.Tensor2D; // [inner, h*Tq]
    const scale = 1 / Math.sqrt(dh);
    const folded = tf.matMul(p.q.w, kBlocksT).mul(scale) as tf.Tensor2D; // [D, h*Tq]
    const biasRow = tf.matMul(p.q.b!.expandDims(0) as tf.Tensor2D, kBlocksT).mul(scale); // [1, h*Tq]
    const hw = imageQueries.shape[0];
    const scores = tokenSideMatMul(
      imageQueries,
      folded,
      biasRow.reshape([-1]) as tf.Tensor1D,
      this.differentiable,
    ).reshape([hw, heads, t]);
    const probs = tf.softmax(scores).reshape([hw, heads * t]) as tf.Tensor2D;
    const valuesOut = tf.matMul(blockDiagonal(linear(v, p.v.w, p.v.b) as tf.Tensor2D, heads), p.out.w) as tf.Tensor2D; // [h*Tq, D]
    return { out: tokenSideMatMul(probs, valuesOut, p.out.b!, this.differentiable), probs, valuesOut };
  }
}

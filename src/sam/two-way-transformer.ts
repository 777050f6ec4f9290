/**
 * SAM's two-way transformer (segment_anything/modeling/transformer.py) for one prompt set: tokens
 * attend to the image, the image attends back to the tokens, and a final token-to-image attention.
 * Layer 0's self-attention has no positional term and no residual; cross-attention works at
 * `dim / downsampleRate` width; LayerNorm eps is the config's (1e-5 in the reference).
 *
 * With no dense mask prompt, the image-side inputs of layer 0 depend only on the image, so their
 * projections are computed once per image (`ImageKeysCache`) and reused by every prompt set.
 */
import * as tf from '@tensorflow/tfjs';
import { TwoWayTransformerConfig } from './config';
import { layerNorm, linear } from './ops';
import { LinearParams, NormParams, ParamStore } from './params';

interface AttentionParams {
  q: LinearParams;
  k: LinearParams;
  v: LinearParams;
  out: LinearParams;
  heads: number;
}

interface LayerParams {
  selfAttn: AttentionParams;
  norm1: NormParams;
  tokenToImage: AttentionParams;
  norm2: NormParams;
  lin1: LinearParams;
  lin2: LinearParams;
  norm3: NormParams;
  norm4: NormParams;
  imageToToken: AttentionParams;
}

/** Image-only tensors of layer 0, valid when the keys are `embedding + no_mask_embed`. */
export interface ImageKeysCache {
  /** keys0 = embedding + dense prompt, [HW, D] */
  keys: tf.Tensor2D;
  /** token-to-image k_proj(keys0 + pe) transposed, [inner, HW] */
  tokenToImageKT: tf.Tensor2D;
  /** token-to-image v_proj(keys0), [HW, inner] */
  tokenToImageV: tf.Tensor2D;
  /** image-to-token q_proj(keys0 + pe), [HW, inner] */
  imageToTokenQ: tf.Tensor2D;
}

export class TwoWayTransformer {
  private readonly layers: LayerParams[] = [];
  private readonly finalAttn: AttentionParams;
  private readonly normFinal: NormParams;

  constructor(
    readonly config: TwoWayTransformerConfig,
    params: ParamStore,
    prefix: string,
  ) {
    const attention = (p: string): AttentionParams => ({
      q: params.linear(`${p}.q_proj`),
      k: params.linear(`${p}.k_proj`),
      v: params.linear(`${p}.v_proj`),
      out: params.linear(`${p}.out_proj`),
      heads: config.numHeads,
    });
    for (let i = 0; i < config.depth; i++) {
      const l = `${prefix}.layers.${i}`;
      this.layers.push({
        selfAttn: attention(`${l}.self_attn`),
        norm1: params.norm(`${l}.norm1`),
        tokenToImage: attention(`${l}.cross_attn_token_to_image`),
        norm2: params.norm(`${l}.norm2`),
        lin1: params.linear(`${l}.mlp.lin1`),
        lin2: params.linear(`${l}.mlp.lin2`),
        norm3: params.norm(`${l}.norm3`),
        norm4: params.norm(`${l}.norm4`),
        imageToToken: attention(`${l}.cross_attn_image_to_token`),
      });
    }
    this.finalAttn = attention(`${prefix}.final_attn_token_to_image`);
    this.normFinal = params.norm(`${prefix}.norm_final_attn`);
  }

  /** Precompute layer 0's image-side projections for keys0 [HW, D] and the positional encoding [HW, D]. */
  buildKeysCache(keys: tf.Tensor2D, pe: tf.Tensor2D): ImageKeysCache {
    return tf.tidy(() => {
      const l0 = this.layers[0];
      const keysPe = keys.add(pe);
      return {
        keys: keys.clone(),
        tokenToImageKT: linear(keysPe, l0.tokenToImage.k.w, l0.tokenToImage.k.b).transpose() as tf.Tensor2D,
        tokenToImageV: linear(keys, l0.tokenToImage.v.w, l0.tokenToImage.v.b) as tf.Tensor2D,
        imageToTokenQ: linear(keysPe, l0.imageToToken.q.w, l0.imageToToken.q.b) as tf.Tensor2D,
      };
    });
  }

  /**
   * Run the transformer for one prompt set. `tokens` [Tq, D] are also the query positional
   * encoding (as in the reference); `keys` [HW, D] or a layer-0 cache; `pe` [HW, D].
   * Returns the final queries [Tq, D] and keys [HW, D].
   */
  forward(tokens: tf.Tensor2D, keysOrCache: tf.Tensor2D | ImageKeysCache, pe: tf.Tensor2D): { queries: tf.Tensor2D; keys: tf.Tensor2D } {
    return tf.tidy(() => {
      const eps = this.config.layerNormEps;
      const cache = keysOrCache instanceof tf.Tensor ? null : keysOrCache;
      let keys = cache ? cache.keys : (keysOrCache as tf.Tensor2D);
      let queries = tokens;
      this.layers.forEach((p, i) => {
        const useCache = cache !== null && i === 0;
        // Self-attention over the tokens.
        if (i === 0) {
          queries = this.attend(p.selfAttn, queries, queries, queries);
        } else {
          const q = queries.add(tokens) as tf.Tensor2D;
          queries = queries.add(this.attend(p.selfAttn, q, q, queries));
        }
        queries = layerNorm(queries, p.norm1.gamma, p.norm1.beta, eps) as tf.Tensor2D;
        // Tokens attend to the image.
        const qTok = queries.add(tokens) as tf.Tensor2D;
        const keysPe = useCache ? null : (keys.add(pe) as tf.Tensor2D);
        const toImage = useCache
          ? this.attendProjected(p.tokenToImage, linear(qTok, p.tokenToImage.q.w, p.tokenToImage.q.b) as tf.Tensor2D, cache!.tokenToImageKT, cache!.tokenToImageV)
          : this.attend(p.tokenToImage, qTok, keysPe!, keys);
        queries = layerNorm(queries.add(toImage), p.norm2.gamma, p.norm2.beta, eps) as tf.Tensor2D;
        // MLP (ReLU) on the tokens.
        const hidden = tf.relu(linear(queries, p.lin1.w, p.lin1.b));
        queries = layerNorm(queries.add(linear(hidden, p.lin2.w, p.lin2.b)), p.norm3.gamma, p.norm3.beta, eps) as tf.Tensor2D;
        // The image attends to the tokens.
        const kTok = queries.add(tokens) as tf.Tensor2D;
        const toTokens = useCache
          ? this.attendProjected(
              p.imageToToken,
              cache!.imageToTokenQ,
              linear(kTok, p.imageToToken.k.w, p.imageToToken.k.b).transpose() as tf.Tensor2D,
              linear(queries, p.imageToToken.v.w, p.imageToToken.v.b) as tf.Tensor2D,
            )
          : this.attend(p.imageToToken, keysPe!, kTok, queries);
        keys = layerNorm(keys.add(toTokens), p.norm4.gamma, p.norm4.beta, eps) as tf.Tensor2D;
      });
      const qFinal = queries.add(tokens) as tf.Tensor2D;
      const kFinal = keys.add(pe) as tf.Tensor2D;
      const attn = this.attend(this.finalAttn, qFinal, kFinal, keys);
      queries = layerNorm(queries.add(attn), this.normFinal.gamma, this.normFinal.beta, eps) as tf.Tensor2D;
      return { queries, keys };
    });
  }

  /** Multi-head attention with projections: q [Nq, D], k [Nk, D], v [Nk, D] -> [Nq, D]. */
  private attend(p: AttentionParams, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
    const qp = linear(q, p.q.w, p.q.b) as tf.Tensor2D;
    const kpT = linear(k, p.k.w, p.k.b).transpose() as tf.Tensor2D;
    const vp = linear(v, p.v.w, p.v.b) as tf.Tensor2D;
    return this.attendProjected(p, qp, kpT, vp);
  }

  /** Attention on projected inputs: qp [Nq, inner], kpT [inner, Nk], vp [Nk, inner] -> out_proj -> [Nq, D]. */
  private attendProjected(p: AttentionParams, qp: tf.Tensor2D, kpT: tf.Tensor2D, vp: tf.Tensor2D): tf.Tensor2D {
    const inner = qp.shape[1];
    const dh = inner / p.heads;
    const scale = 1 / Math.sqrt(dh);
    const nq = qp.shape[0];
    const nk = vp.shape[0];
    const outs: tf.Tensor2D[] = [];
    for (let h = 0; h < p.heads; h++) {
      const qh = qp.slice([0, h * dh], [nq, dh]);
      const khT = kpT.slice([h * dh, 0], [dh, nk]);
      const vh = vp.slice([0, h * dh], [nk, dh]);
      const probs = tf.softmax(tf.matMul(qh, khT).mul(scale)) as tf.Tensor2D;
      outs.push(tf.matMul(probs, vh));
    }
    return linear(tf.concat(outs, 1), p.out.w, p.out.b) as tf.Tensor2D;
  }
}

/**
 * The two-way transformer computed the way segment_anything/modeling/transformer.py computes it:
 * every attention projects its queries, keys and values and attends per head, with nothing folded
 * or cached. Kept for reading and as the yardstick of the fast transformer (../two-way-transformer.ts),
 * which it equals within the parity tolerance (test/sam/reference-mask-decoder.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { TwoWayTransformerConfig } from '../../config';
import type { ParamStore } from '../../weights/params';
import { AttentionParams, attention, attentionParams } from '../attention';
import { layerNorm, mlp } from '../ops';
import { TwoWayLayerParams, TwoWayTransformerParams, twoWayTransformerParams } from '../two-way-transformer-params';

export class ReferenceTwoWayTransformer {
  private readonly params: TwoWayTransformerParams<AttentionParams>;

  constructor(
    readonly config: TwoWayTransformerConfig,
    params: ParamStore,
    prefix: string,
  ) {
    this.params = twoWayTransformerParams(config, params, prefix, (p) => attentionParams(params, p, config.numHeads));
  }

  /**
   * `image` [HW, D] (the embedding plus the dense prompt), `imagePe` [HW, D], `pointEmbedding`
   * [T, D] (output tokens, then prompt tokens; also the queries' positional encoding).
   * Returns the processed tokens and image.
   */
  forward(
    image: tf.Tensor2D,
    imagePe: tf.Tensor2D,
    pointEmbedding: tf.Tensor2D,
  ): { queries: tf.Tensor2D; keys: tf.Tensor2D } {
    return tf.tidy(() => {
      let queries = pointEmbedding;
      let keys = image;
      this.params.layers.forEach((layer, i) => {
        ({ queries, keys } = this.block(layer, queries, keys, pointEmbedding, imagePe, i === 0));
      });
      const q = queries.add(pointEmbedding) as tf.Tensor2D;
      const k = keys.add(imagePe) as tf.Tensor2D;
      const attnOut = attention(this.params.finalAttn, q, k, keys);
      queries = this.norm(queries.add(attnOut), this.params.normFinal);
      return { queries, keys };
    });
  }

  /** One TwoWayAttentionBlock; the first skips the positional term (and residual) of self-attention. */
  private block(
    p: TwoWayLayerParams<AttentionParams>,
    queries: tf.Tensor2D,
    keys: tf.Tensor2D,
    queryPe: tf.Tensor2D,
    keyPe: tf.Tensor2D,
    skipFirstLayerPe: boolean,
  ): { queries: tf.Tensor2D; keys: tf.Tensor2D } {
    if (skipFirstLayerPe) {
      queries = attention(p.selfAttn, queries, queries, queries);
    } else {
      const q = queries.add(queryPe) as tf.Tensor2D;
      queries = queries.add(attention(p.selfAttn, q, q, queries)) as tf.Tensor2D;
    }
    queries = this.norm(queries, p.norm1);

    let q = queries.add(queryPe) as tf.Tensor2D;
    let k = keys.add(keyPe) as tf.Tensor2D;
    queries = this.norm(queries.add(attention(p.tokenToImage, q, k, keys)), p.norm2);

    queries = this.norm(queries.add(mlp(queries, [p.lin1, p.lin2])), p.norm3);

    q = queries.add(queryPe) as tf.Tensor2D;
    k = keys.add(keyPe) as tf.Tensor2D;
    keys = this.norm(keys.add(attention(p.imageToToken, k, q, queries)), p.norm4);
    return { queries, keys };
  }

  private norm(x: tf.Tensor, p: { gamma: tf.Tensor1D; beta: tf.Tensor1D }): tf.Tensor2D {
    return layerNorm(x, p.gamma, p.beta, this.config.layerNormEps) as tf.Tensor2D;
  }
}

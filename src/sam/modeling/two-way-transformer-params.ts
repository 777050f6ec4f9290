/**
 * The two-way transformer's parameters under the reference's names, shared by the fast transformer
 * and the reference-shaped one; each chooses what it keeps of an attention (`attention(prefix)`).
 */
import type { TwoWayTransformerConfig } from '../config';
import type { LinearParams, NormParams, ParamStore } from '../weights/params';

export interface TwoWayLayerParams<A> {
  selfAttn: A;
  norm1: NormParams;
  tokenToImage: A;
  norm2: NormParams;
  lin1: LinearParams;
  lin2: LinearParams;
  norm3: NormParams;
  norm4: NormParams;
  imageToToken: A;
}

export interface TwoWayTransformerParams<A> {
  layers: TwoWayLayerParams<A>[];
  finalAttn: A;
  normFinal: NormParams;
}

export function twoWayTransformerParams<A>(
  config: TwoWayTransformerConfig,
  params: ParamStore,
  prefix: string,
  attention: (prefix: string) => A,
): TwoWayTransformerParams<A> {
  const layers = Array.from({ length: config.depth }, (_, i) => {
    const l = `${prefix}.layers.${i}`;
    return {
      selfAttn: attention(`${l}.self_attn`),
      norm1: params.norm(`${l}.norm1`),
      tokenToImage: attention(`${l}.cross_attn_token_to_image`),
      norm2: params.norm(`${l}.norm2`),
      lin1: params.linear(`${l}.mlp.lin1`),
      lin2: params.linear(`${l}.mlp.lin2`),
      norm3: params.norm(`${l}.norm3`),
      norm4: params.norm(`${l}.norm4`),
      imageToToken: attention(`${l}.cross_attn_image_to_token`),
    };
  });
  return {
    layers,
    finalAttn: attention(`${prefix}.final_attn_token_to_image`),
    normFinal: params.norm(`${prefix}.norm_final_attn`),
  };
}

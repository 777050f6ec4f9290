/**
 * The official state-dict names and shapes for a SAM config. Loading validates a checkpoint against
 * this list before creating any tensor, so a wrong, missing or mis-shaped tensor is reported with
 * both shapes and nothing is half-loaded.
 */
import { SamConfig, embeddingGridSize } from '../config';

export interface WeightSpec {
  name: string;
  shape: number[];
}

export function samWeightSpecs(config: SamConfig): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const add = (name: string, shape: number[]) => specs.push({ name, shape });
  const linear = (prefix: string, inDim: number, outDim: number, bias = true) => {
    add(`${prefix}.weight`, [outDim, inDim]);
    if (bias) add(`${prefix}.bias`, [outDim]);
  };
  const norm = (prefix: string, dim: number) => {
    add(`${prefix}.weight`, [dim]);
    add(`${prefix}.bias`, [dim]);
  };

  const ie = config.imageEncoder;
  const grid = embeddingGridSize(config);
  const e = 'image_encoder';
  if (ie.useAbsPos) add(`${e}.pos_embed`, [1, grid, grid, ie.embedDim]);
  add(`${e}.patch_embed.proj.weight`, [ie.embedDim, ie.inChans, ie.patchSize, ie.patchSize]);
  add(`${e}.patch_embed.proj.bias`, [ie.embedDim]);
  const headDim = ie.embedDim / ie.numHeads;
  for (let i = 0; i < ie.depth; i++) {
    const b = `${e}.blocks.${i}`;
    const isGlobal = ie.globalAttnIndexes.includes(i);
    const attnSize = isGlobal || ie.windowSize === 0 ? grid : ie.windowSize;
    norm(`${b}.norm1`, ie.embedDim);
    if (ie.useRelPos) {
      add(`${b}.attn.rel_pos_h`, [2 * attnSize - 1, headDim]);
      add(`${b}.attn.rel_pos_w`, [2 * attnSize - 1, headDim]);
    }
    linear(`${b}.attn.qkv`, ie.embedDim, 3 * ie.embedDim, ie.qkvBias);
    linear(`${b}.attn.proj`, ie.embedDim, ie.embedDim);
    norm(`${b}.norm2`, ie.embedDim);
    const mlpDim = Math.floor(ie.embedDim * ie.mlpRatio);
    linear(`${b}.mlp.lin1`, ie.embedDim, mlpDim);
    linear(`${b}.mlp.lin2`, mlpDim, ie.embedDim);
  }
  add(`${e}.neck.0.weight`, [ie.outChans, ie.embedDim, 1, 1]);
  norm(`${e}.neck.1`, ie.outChans);
  add(`${e}.neck.2.weight`, [ie.outChans, ie.outChans, 3, 3]);
  norm(`${e}.neck.3`, ie.outChans);

  const pe = config.promptEncoder;
  const p = 'prompt_encoder';
  add(`${p}.pe_layer.positional_encoding_gaussian_matrix`, [2, pe.embedDim / 2]);
  for (let i = 0; i < 4; i++) add(`${p}.point_embeddings.${i}.weight`, [1, pe.embedDim]);
  add(`${p}.not_a_point_embed.weight`, [1, pe.embedDim]);
  const quarter = pe.maskInChans / 4;
  add(`${p}.mask_downscaling.0.weight`, [quarter, 1, 2, 2]);
  add(`${p}.mask_downscaling.0.bias`, [quarter]);
  norm(`${p}.mask_downscaling.1`, quarter);
  add(`${p}.mask_downscaling.3.weight`, [pe.maskInChans, quarter, 2, 2]);
  add(`${p}.mask_downscaling.3.bias`, [pe.maskInChans]);
  norm(`${p}.mask_downscaling.4`, pe.maskInChans);
  add(`${p}.mask_downscaling.6.weight`, [pe.embedDim, pe.maskInChans, 1, 1]);
  add(`${p}.mask_downscaling.6.bias`, [pe.embedDim]);
  add(`${p}.no_mask_embed.weight`, [1, pe.embedDim]);

  const md = config.maskDecoder;
  const d = 'mask_decoder';
  const dim = md.transformerDim;
  const tr = md.transformer;
  const attention = (prefix: string, downsample: number) => {
    const inner = dim / downsample;
    linear(`${prefix}.q_proj`, dim, inner);
    linear(`${prefix}.k_proj`, dim, inner);
    linear(`${prefix}.v_proj`, dim, inner);
    linear(`${prefix}.out_proj`, inner, dim);
  };
  for (let i = 0; i < tr.depth; i++) {
    const l = `${d}.transformer.layers.${i}`;
    attention(`${l}.self_attn`, 1);
    norm(`${l}.norm1`, dim);
    attention(`${l}.cross_attn_token_to_image`, tr.attentionDownsampleRate);
    norm(`${l}.norm2`, dim);
    linear(`${l}.mlp.lin1`, dim, tr.mlpDim);
    linear(`${l}.mlp.lin2`, tr.mlpDim, dim);
    norm(`${l}.norm3`, dim);
    norm(`${l}.norm4`, dim);
    attention(`${l}.cross_attn_image_to_token`, tr.attentionDownsampleRate);
  }
  attention(`${d}.transformer.final_attn_token_to_image`, tr.attentionDownsampleRate);
  norm(`${d}.transformer.norm_final_attn`, dim);
  const numMaskTokens = md.numMultimaskOutputs + 1;
  add(`${d}.iou_token.weight`, [1, dim]);
  add(`${d}.mask_tokens.weight`, [numMaskTokens, dim]);
  add(`${d}.output_upscaling.0.weight`, [dim, dim / 4, 2, 2]);
  add(`${d}.output_upscaling.0.bias`, [dim / 4]);
  norm(`${d}.output_upscaling.1`, dim / 4);
  add(`${d}.output_upscaling.3.weight`, [dim / 4, dim / 8, 2, 2]);
  add(`${d}.output_upscaling.3.bias`, [dim / 8]);
  for (let i = 0; i < numMaskTokens; i++) {
    const m = `${d}.output_hypernetworks_mlps.${i}.layers`;
    linear(`${m}.0`, dim, dim);
    linear(`${m}.1`, dim, dim);
    linear(`${m}.2`, dim, dim / 8);
  }
  for (let j = 0; j < md.iouHeadDepth; j++) {
    const inDim = j === 0 ? dim : md.iouHeadHiddenDim;
    const outDim = j === md.iouHeadDepth - 1 ? numMaskTokens : md.iouHeadHiddenDim;
    linear(`${d}.iou_prediction_head.layers.${j}`, inDim, outDim);
  }
  return specs;
}

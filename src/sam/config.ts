/**
 * SAM hyper-parameters. The presets follow the official build functions (`build_sam_vit_b/l/h`);
 * `samConfigFromJson` reads the `config.json` layout used by the parity fixtures, so any geometry
 * (tiny test models, the micro-SAM, real ViT-B/L/H) goes through the same code.
 */

export interface ImageEncoderConfig {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  outChans: number;
  qkvBias: boolean;
  useAbsPos: boolean;
  useRelPos: boolean;
  windowSize: number;
  globalAttnIndexes: number[];
  normEps: number;
}

export interface PromptEncoderConfig {
  embedDim: number;
  maskInChans: number;
}

export interface TwoWayTransformerConfig {
  depth: number;
  mlpDim: number;
  numHeads: number;
  attentionDownsampleRate: number;
  layerNormEps: number;
}

export interface MaskDecoderConfig {
  transformerDim: number;
  numMultimaskOutputs: number;
  iouHeadDepth: number;
  iouHeadHiddenDim: number;
  transformer: TwoWayTransformerConfig;
}

export interface SamConfig {
  name: string;
  imageEncoder: ImageEncoderConfig;
  promptEncoder: PromptEncoderConfig;
  maskDecoder: MaskDecoderConfig;
  pixelMean: [number, number, number];
  pixelStd: [number, number, number];
  maskThreshold: number;
}

/** Derived sizes that every module needs. */
export function embeddingGridSize(config: SamConfig): number {
  return config.imageEncoder.imgSize / config.imageEncoder.patchSize;
}

export function lowResMaskSize(config: SamConfig): number {
  return 4 * embeddingGridSize(config);
}

function vitPreset(
  name: string,
  embedDim: number,
  depth: number,
  numHeads: number,
  globalAttnIndexes: number[],
): SamConfig {
  return {
    name,
    imageEncoder: {
      imgSize: 1024,
      patchSize: 16,
      inChans: 3,
      embedDim,
      depth,
      numHeads,
      mlpRatio: 4,
      outChans: 256,
      qkvBias: true,
      useAbsPos: true,
      useRelPos: true,
      windowSize: 14,
      globalAttnIndexes,
      normEps: 1e-6,
    },
    promptEncoder: { embedDim: 256, maskInChans: 16 },
    maskDecoder: {
      transformerDim: 256,
      numMultimaskOutputs: 3,
      iouHeadDepth: 3,
      iouHeadHiddenDim: 256,
      transformer: { depth: 2, mlpDim: 2048, numHeads: 8, attentionDownsampleRate: 2, layerNormEps: 1e-5 },
    },
    pixelMean: [123.675, 116.28, 103.53],
    pixelStd: [58.395, 57.12, 57.375],
    maskThreshold: 0,
  };
}

/** The official presets (segment_anything/build_sam.py). */
export const SAM_PRESETS = {
  vit_b: vitPreset('vit_b', 768, 12, 12, [2, 5, 8, 11]),
  vit_l: vitPreset('vit_l', 1024, 24, 16, [5, 11, 17, 23]),
  vit_h: vitPreset('vit_h', 1280, 32, 16, [7, 15, 23, 31]),
} as const satisfies Record<string, SamConfig>;

export type SamPresetName = keyof typeof SAM_PRESETS;

type Json = Record<string, unknown>;

function field<T>(obj: Json, key: string, where: string, kind: 'number' | 'boolean' | 'object' | 'array'): T {
  const v = obj[key];
  const ok =
    kind === 'array' ? Array.isArray(v) : kind === 'object' ? v !== null && typeof v === 'object' : typeof v === kind;
  if (!ok) throw new Error(`SAM config: '${where}.${key}' must be a ${kind}, got ${JSON.stringify(v)}`);
  return v as T;
}

function optional<T>(obj: Json, key: string, fallback: T): T {
  return obj[key] === undefined ? fallback : (obj[key] as T);
}

/**
 * Read a config in the fixtures' `config.json` layout (snake_case, sections `image_encoder`,
 * `prompt_encoder`, `mask_decoder`). Errors name the offending key.
 */
export function samConfigFromJson(json: unknown, name = 'custom'): SamConfig {
  if (json === null || typeof json !== 'object') throw new Error('SAM config: expected a JSON object');
  const root = json as Json;
  const ie = field<Json>(root, 'image_encoder', 'config', 'object');
  const pe = field<Json>(root, 'prompt_encoder', 'config', 'object');
  const md = field<Json>(root, 'mask_decoder', 'config', 'object');
  const tr = field<Json>(md, 'transformer', 'mask_decoder', 'object');
  const num = (o: Json, k: string, w: string) => field<number>(o, k, w, 'number');
  const config: SamConfig = {
    name: typeof root.model === 'string' ? root.model : name,
    imageEncoder: {
      imgSize: num(ie, 'img_size', 'image_encoder'),
      patchSize: num(ie, 'patch_size', 'image_encoder'),
      inChans: optional(ie, 'in_chans', 3),
      embedDim: num(ie, 'embed_dim', 'image_encoder'),
      depth: num(ie, 'depth', 'image_encoder'),
      numHeads: num(ie, 'num_heads', 'image_encoder'),
      mlpRatio: num(ie, 'mlp_ratio', 'image_encoder'),
      outChans: num(ie, 'out_chans', 'image_encoder'),
      qkvBias: optional(ie, 'qkv_bias', true),
      useAbsPos: optional(ie, 'use_abs_pos', true),
      useRelPos: optional(ie, 'use_rel_pos', true),
      windowSize: num(ie, 'window_size', 'image_encoder'),
      globalAttnIndexes: field<number[]>(ie, 'global_attn_indexes', 'image_encoder', 'array'),
      normEps: optional(ie, 'norm_eps', 1e-6),
    },
    promptEncoder: {
      embedDim: num(pe, 'embed_dim', 'prompt_encoder'),
      maskInChans: num(pe, 'mask_in_chans', 'prompt_encoder'),
    },
    maskDecoder: {
      transformerDim: num(md, 'transformer_dim', 'mask_decoder'),
      numMultimaskOutputs: num(md, 'num_multimask_outputs', 'mask_decoder'),
      iouHeadDepth: num(md, 'iou_head_depth', 'mask_decoder'),
      iouHeadHiddenDim: num(md, 'iou_head_hidden_dim', 'mask_decoder'),
      transformer: {
        depth: num(tr, 'depth', 'mask_decoder.transformer'),
        mlpDim: num(tr, 'mlp_dim', 'mask_decoder.transformer'),
        numHeads: num(tr, 'num_heads', 'mask_decoder.transformer'),
        attentionDownsampleRate: optional(tr, 'attention_downsample_rate', 2),
        layerNormEps: optional(tr, 'layernorm_eps', 1e-5),
      },
    },
    pixelMean: optional(root, 'pixel_mean', [123.675, 116.28, 103.53]) as [number, number, number],
    pixelStd: optional(root, 'pixel_std', [58.395, 57.12, 57.375]) as [number, number, number],
    maskThreshold: optional(root, 'mask_threshold', 0),
  };
  validateSamConfig(config);
  return config;
}

/** Write a config in the same layout `samConfigFromJson` reads. */
export function samConfigToJson(config: SamConfig): Record<string, unknown> {
  const ie = config.imageEncoder;
  const md = config.maskDecoder;
  return {
    format_version: 1,
    model: config.name,
    image_encoder: {
      img_size: ie.imgSize,
      patch_size: ie.patchSize,
      in_chans: ie.inChans,
      embed_dim: ie.embedDim,
      depth: ie.depth,
      num_heads: ie.numHeads,
      mlp_ratio: ie.mlpRatio,
      out_chans: ie.outChans,
      qkv_bias: ie.qkvBias,
      use_abs_pos: ie.useAbsPos,
      use_rel_pos: ie.useRelPos,
      window_size: ie.windowSize,
      global_attn_indexes: ie.globalAttnIndexes,
      norm_eps: ie.normEps,
    },
    prompt_encoder: { embed_dim: config.promptEncoder.embedDim, mask_in_chans: config.promptEncoder.maskInChans },
    mask_decoder: {
      transformer_dim: md.transformerDim,
      num_multimask_outputs: md.numMultimaskOutputs,
      iou_head_depth: md.iouHeadDepth,
      iou_head_hidden_dim: md.iouHeadHiddenDim,
      transformer: {
        depth: md.transformer.depth,
        embedding_dim: md.transformerDim,
        mlp_dim: md.transformer.mlpDim,
        num_heads: md.transformer.numHeads,
        attention_downsample_rate: md.transformer.attentionDownsampleRate,
        layernorm_eps: md.transformer.layerNormEps,
      },
    },
    pixel_mean: config.pixelMean,
    pixel_std: config.pixelStd,
    mask_threshold: config.maskThreshold,
  };
}

export function validateSamConfig(c: SamConfig): void {
  const ie = c.imageEncoder;
  const bad = (msg: string) => {
    throw new Error(`SAM config '${c.name}': ${msg}`);
  };
  if (ie.imgSize % ie.patchSize !== 0)
    bad(`image_encoder.img_size ${ie.imgSize} is not a multiple of patch_size ${ie.patchSize}`);
  if (ie.embedDim % ie.numHeads !== 0)
    bad(`image_encoder.embed_dim ${ie.embedDim} is not divisible by num_heads ${ie.numHeads}`);
  for (const i of ie.globalAttnIndexes) {
    if (!Number.isInteger(i) || i < 0 || i >= ie.depth)
      bad(`image_encoder.global_attn_indexes has ${i}, outside [0, ${ie.depth})`);
  }
  const md = c.maskDecoder;
  if (c.promptEncoder.embedDim !== md.transformerDim) {
    bad(
      `prompt_encoder.embed_dim ${c.promptEncoder.embedDim} differs from mask_decoder.transformer_dim ${md.transformerDim}`,
    );
  }
  if (ie.outChans !== md.transformerDim)
    bad(`image_encoder.out_chans ${ie.outChans} differs from mask_decoder.transformer_dim ${md.transformerDim}`);
  if (md.transformerDim % 8 !== 0) bad(`mask_decoder.transformer_dim ${md.transformerDim} must be divisible by 8`);
  const internal = md.transformerDim / md.transformer.attentionDownsampleRate;
  if (internal % md.transformer.numHeads !== 0) bad('mask_decoder attention width is not divisible by num_heads');
}

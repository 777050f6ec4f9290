/**
 * The micro-SAM: the SAM architecture at a size that trains on two CPU cores with the wasm
 * backend and ships in the repository (< 5 MB of float32). 64 px input (the predictor resizes the
 * 128 px scenes), 8 px patches (an 8 x 8 embedding grid, a 32 x 32 low-res mask), a 3-block ViT
 * of width 64 (the 8 x 8 window covers the whole grid), and SAM's decoder at width 64. A first
 * model at 128 px (16 x 16 grid, width 96, 4 blocks) managed under one step per second here and
 * collapsed to empty masks in the steps it got; a quarter of the tokens buys more, richer steps.
 */
import type { SyntheticConfig } from '../data/synthetic';
import type { SamConfig } from '../sam/config';

export function microSamConfig(): SamConfig {
  return {
    name: 'micro_sam',
    imageEncoder: {
      imgSize: 64,
      patchSize: 8,
      inChans: 3,
      embedDim: 64,
      depth: 3,
      numHeads: 4,
      mlpRatio: 4,
      outChans: 64,
      qkvBias: true,
      useAbsPos: true,
      useRelPos: true,
      windowSize: 8,
      globalAttnIndexes: [1, 2],
      normEps: 1e-6,
    },
    promptEncoder: { embedDim: 64, maskInChans: 16 },
    maskDecoder: {
      transformerDim: 64,
      numMultimaskOutputs: 3,
      iouHeadDepth: 3,
      iouHeadHiddenDim: 64,
      transformer: { depth: 2, mlpDim: 256, numHeads: 4, attentionDownsampleRate: 2, layerNormEps: 1e-5 },
    },
    pixelMean: [123.675, 116.28, 103.53],
    pixelStd: [58.395, 57.12, 57.375],
    maskThreshold: 0,
  };
}

/**
 * The micro-SAM's data: synthetic scenes with all eight shapes as targets, every texture, one to
 * three distractors. Training reads the 'train' split, evaluation the disjoint 'test' split.
 */
export const MICRO_SAM_DATA: SyntheticConfig = { seed: 0, imageSize: 128, distractors: [1, 3], length: 2 ** 30 };

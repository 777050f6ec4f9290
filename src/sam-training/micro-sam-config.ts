/**
 * The micro-SAM: the SAM architecture at a size that ships in the repository (< 5 MB of float32)
 * and runs at every env step on two CPU cores. 128 px input (the synthetic scenes' own size, no
 * resize), 8 px patches (a 16 x 16 embedding grid, a 64 x 64 low-res mask), a 4-block ViT of
 * width 96 (blocks 0 and 2 in 8 x 8 windows, 1 and 3 global), and SAM's decoder at width 64.
 * The committed weights were trained on a GPU by the PyTorch twin (scripts/micro-sam-torch);
 * `npm run train:micro-sam` trains the same architecture with tfjs on the CPU, far more slowly.
 */
import type { SyntheticConfig } from '../data/synthetic';
import type { SamConfig } from '../sam/config';

export function microSamConfig(): SamConfig {
  return {
    name: 'micro_sam',
    imageEncoder: {
      imgSize: 128,
      patchSize: 8,
      inChans: 3,
      embedDim: 96,
      depth: 4,
      numHeads: 4,
      mlpRatio: 4,
      outChans: 64,
      qkvBias: true,
      useAbsPos: true,
      useRelPos: true,
      windowSize: 8,
      globalAttnIndexes: [1, 3],
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

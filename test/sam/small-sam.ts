/** A small random-weight SAM geometry and synthetic images, for tests that need a SamModel but no fixture. */
import type { RgbImage } from '../../src/data/types';
import { SamConfig } from '../../src/sam/config';

/** 32-px input, 4x4 grid, one global block, widths of 16. */
export const SMALL_SAM: SamConfig = {
  name: 'c',
  imageEncoder: {
    imgSize: 32,
    patchSize: 8,
    inChans: 3,
    embedDim: 16,
    depth: 1,
    numHeads: 2,
    mlpRatio: 2,
    outChans: 16,
    qkvBias: true,
    useAbsPos: true,
    useRelPos: true,
    windowSize: 0,
    globalAttnIndexes: [0],
    normEps: 1e-6,
  },
  promptEncoder: { embedDim: 16, maskInChans: 8 },
  maskDecoder: {
    transformerDim: 16,
    numMultimaskOutputs: 3,
    iouHeadDepth: 3,
    iouHeadHiddenDim: 16,
    transformer: { depth: 2, mlpDim: 32, numHeads: 2, attentionDownsampleRate: 2, layerNormEps: 1e-5 },
  },
  pixelMean: [123.675, 116.28, 103.53],
  pixelStd: [58.395, 57.12, 57.375],
  maskThreshold: 0,
};

/**
 * SMALL_SAM under another name with some image-encoder and decoder-transformer sizes changed: the
 * geometries tests need that no fixture has.
 */
export function smallSamVariant(
  name: string,
  imageEncoder: Partial<SamConfig['imageEncoder']>,
  transformer: Partial<SamConfig['maskDecoder']['transformer']> = {},
): SamConfig {
  return {
    ...SMALL_SAM,
    name,
    imageEncoder: { ...SMALL_SAM.imageEncoder, ...imageEncoder },
    maskDecoder: { ...SMALL_SAM.maskDecoder, transformer: { ...SMALL_SAM.maskDecoder.transformer, ...transformer } },
  };
}

/** A w x h image whose bytes follow `(i * v) % 251`: different `v`, different image. */
export const patternImage = (v: number, w = 20, h = 16): RgbImage => ({
  width: w,
  height: h,
  data: new Uint8Array(w * h * 3).map((_, i) => (i * v) % 251),
});

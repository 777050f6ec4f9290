/**
 * Floating-point operation counts (multiply-add = 2) of the reference algorithm, used by the
 * benchmarks to report GFLOP/s. Our decoder computes the same function with fewer operations
 * (folded projections), so its rate is "reference-equivalent".
 */
import { SamConfig, embeddingGridSize } from './config';

export function encoderFlops(c: SamConfig): number {
  const ie = c.imageEncoder;
  const g = embeddingGridSize(c);
  const n = g * g;
  const dim = ie.embedDim;
  let f = 2 * n * ie.patchSize * ie.patchSize * ie.inChans * dim;
  for (let i = 0; i < ie.depth; i++) {
    const global = ie.globalAttnIndexes.includes(i) || ie.windowSize === 0;
    const side = global ? g : Math.ceil(g / ie.windowSize) * ie.windowSize;
    const tokens = side * side;
    const perWindow = global ? n : ie.windowSize * ie.windowSize;
    const windows = tokens / perWindow;
    const attnSide = global ? g : ie.windowSize;
    f += 2 * n * dim * 3 * dim + 2 * n * dim * dim; // qkv, proj (padding tokens go through qkv too; ignored)
    f += windows * 2 * 2 * perWindow * perWindow * dim; // scores and weighted sum, all heads
    if (ie.useRelPos) f += windows * 2 * perWindow * 2 * attnSide * dim; // decomposed rel-pos terms
    f += 2 * 2 * n * dim * Math.floor(dim * ie.mlpRatio);
  }
  f += 2 * n * dim * ie.outChans + 2 * n * ie.outChans * ie.outChans * 9;
  return f;
}

/** Reference decoder cost for one prompt set with `numPromptTokens` sparse tokens and `numMasks` outputs. */
export function decoderFlops(c: SamConfig, numPromptTokens: number, numMasks: number): number {
  const md = c.maskDecoder;
  const d = md.transformerDim;
  const hw = embeddingGridSize(c) ** 2;
  const tq = md.numMultimaskOutputs + 2 + numPromptTokens;
  const inner = d / md.transformer.attentionDownsampleRate;
  const cross = (nq: number, nk: number) =>
    2 * (nq * d * inner + 2 * nk * d * inner + 2 * nq * nk * inner + nq * inner * d);
  let f = 0;
  for (let i = 0; i < md.transformer.depth; i++) {
    f += 2 * (4 * tq * d * d + 2 * tq * tq * d); // self-attention
    f += cross(tq, hw); // tokens -> image
    f += 2 * 2 * tq * d * md.transformer.mlpDim;
    f += cross(hw, tq); // image -> tokens
  }
  f += cross(tq, hw);
  f += 2 * hw * d * d + 2 * 4 * hw * (d / 4) * (d / 2); // two 2x2 transposed convolutions
  f += 2 * numMasks * 16 * hw * (d / 8);
  return f;
}

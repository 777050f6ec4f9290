/**
 * Freshly initialised SAM weights for any config: the starting point for training a small SAM
 * (the micro-SAM) and for tests of geometries that no fixture covers. Scales follow PyTorch's
 * defaults in spirit (uniform +-1/sqrt(fan_in) for weights, ones/zeros for norms).
 */
import { Rng } from '../../utils/rng';
import { SamConfig } from '../config';
import { RawWeights } from './params';
import { samWeightSpecs } from './weight-spec';

export interface RandomSamWeightsOptions {
  /**
   * Draw this many uniform values once and fill each tensor from them (from a random offset, scaled
   * to its bound), instead of drawing every value: still deterministic, about twice as fast, and
   * enough for benchmarks and memory checks of the large geometries, where only shapes and scales
   * matter.
   */
  tile?: number;
}

/** `out` filled with `table`'s values from `offset` on (wrapping around), times `scale`. */
function fillFromTable(out: Float32Array, table: Float32Array, offset: number, scale: number): void {
  for (let i = 0, j = offset % table.length; i < out.length; i++, j = j + 1 === table.length ? 0 : j + 1)
    out[i] = table[j] * scale;
}

export function randomSamWeights(config: SamConfig, seed = 0, options: RandomSamWeightsOptions = {}): RawWeights {
  const rng = new Rng(seed);
  const tile = options.tile ?? 0;
  if (tile !== 0 && !(Number.isInteger(tile) && tile > 0))
    throw new Error(`randomSamWeights: tile must be a positive integer, got ${tile}`);
  const table = tile > 0 ? Float32Array.from({ length: tile }, () => rng.uniform(-1, 1)) : null;
  const out: RawWeights = new Map();
  for (const { name, shape } of samWeightSpecs(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm =
      /(norm\d?|norm_final_attn|neck\.[13]|mask_downscaling\.[14]|output_upscaling\.1)\.(weight|bias)$/.test(name);
    if (isNorm) {
      data.fill(name.endsWith('.weight') ? 1 : 0);
    } else if (name.endsWith('.bias')) {
      data.fill(0);
    } else if (name.endsWith('positional_encoding_gaussian_matrix')) {
      for (let i = 0; i < n; i++) data[i] = rng.normal();
    } else {
      // fan_in: product of all but the first dim (ConvTranspose2d stores [in, out, kh, kw]: use in).
      const fanIn = name.includes('output_upscaling') ? shape[0] : shape.length > 1 ? n / shape[0] : shape[0];
      const bound =
        name.endsWith('pos_embed') || name.includes('rel_pos') || name.includes('embed') || name.includes('token')
          ? 0.02
          : 1 / Math.sqrt(fanIn);
      if (table) fillFromTable(data, table, rng.int(table.length), bound);
      else for (let i = 0; i < n; i++) data[i] = rng.uniform(-bound, bound);
    }
    out.set(name, { shape, data });
  }
  return out;
}

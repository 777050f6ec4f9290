import * as path from 'path';
import { SyntheticDataset } from '../../../src/data/synthetic';
import { loadSam } from '../../../src/sam/pretrained';
import { EmbeddingCache } from '../../../src/sam/embedding-cache';
import { SamModel } from '../../../src/sam/modeling/sam-model';

export const TINY_WEIGHTS = path.resolve(__dirname, '../../../../shared/fixtures/sam/tiny/weights.safetensors');

/** The tiny fixture SAM (random weights: it does not segment, but every code path runs). */
export async function tinySam(): Promise<SamModel> {
  return loadSam(TINY_WEIGHTS);
}

export function smallSynthetic(length = 6, seed = 1): SyntheticDataset {
  return new SyntheticDataset({ seed, length, imageSize: [72, 56] });
}

export function cacheFor(sam: SamModel): EmbeddingCache {
  return new EmbeddingCache(sam, { maxInMemory: 32 });
}

/**
 * A SAM preset with random weights as a safetensors file, for the benchmarks: every encoder worker
 * loads its model from a file, and random weights cost the same to run as trained ones.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeSafetensors } from '../../src/io/safetensors';
import type { SamConfig } from '../../src/sam/config';
import { randomSamWeights } from '../../src/sam/weights/random-weights';

export async function writeRandomCheckpoint(config: SamConfig, file: string): Promise<void> {
  // Values tiled from one table of draws: what the encoder costs depends on shapes, not on values.
  const weights = randomSamWeights(config, 0, { tile: 1 << 20 });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeSafetensors(
    tmp,
    new Map([...weights].map(([name, w]) => [name, { dtype: 'float32' as const, shape: w.shape, data: w.data }])),
  );
  fs.renameSync(tmp, file);
}

/**
 * Reading a SAM checkpoint: safetensors (official or Hugging Face names) or the official `.pth`
 * (zip + pickle, read by a restricted unpickler that never executes code), into tensors under the
 * official names.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { CheckpointFormat, readCheckpoint } from '../../io/checkpoint';
import { TensorRecord, toFloat32 } from '../../io/tensor-record';
import { SAM_PRESETS, SamPresetName } from '../config';
import { RawWeights } from './params';
import { toOfficialNames } from './weight-names';

export type { CheckpointFormat };

/** Streaming SHA-256 of a file (hex), used to key caches by the exact weights. */
export async function fileSha256(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(filePath)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** Read a checkpoint (format told from its first bytes) into official-name tensors (any dtype). */
export async function readSamCheckpoint(filePath: string): Promise<TensorRecord> {
  const { tensors } = await readCheckpoint(filePath);
  try {
    return toOfficialNames(tensors);
  } catch (err) {
    throw new Error(`${filePath}: ${(err as Error).message}`);
  }
}

/** The official preset whose encoder width and depth match the weights, if any. */
export function inferSamPreset(record: TensorRecord): SamPresetName | null {
  const patch = record.get('image_encoder.patch_embed.proj.weight');
  if (!patch) return null;
  let depth = 0;
  while (record.has(`image_encoder.blocks.${depth}.norm1.weight`)) depth++;
  for (const [name, preset] of Object.entries(SAM_PRESETS)) {
    if (preset.imageEncoder.embedDim === patch.shape[0] && preset.imageEncoder.depth === depth)
      return name as SamPresetName;
  }
  return null;
}

/** A checkpoint's tensors as float32 arrays, the form `SamModel.fromWeights` takes. */
export function toRawWeights(record: TensorRecord, filePath: string): RawWeights {
  const raw: RawWeights = new Map();
  for (const [name, t] of record) raw.set(name, { shape: t.shape, data: toFloat32(t, `${filePath}: ${name}`) });
  return raw;
}

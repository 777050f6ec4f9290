/**
 * Load a SAM checkpoint from a local path: safetensors (official or Hugging Face names) or the
 * official `.pth` (zip + pickle, read by a restricted unpickler that never executes code). The
 * config comes from the caller, a `config.json` beside the checkpoint, or the shapes (ViT-B/L/H).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointFormat, readCheckpoint } from '../io/checkpoint';
import { TensorRecord, toFloat32 } from '../io/tensor-record';
import { SAM_PRESETS, SamConfig, SamPresetName, samConfigFromJson } from './config';
import { RawWeights } from './params';
import { SamModel } from './sam-model';
import { toOfficialNames } from './weight-names';

export type { CheckpointFormat };

export interface LoadSamOptions {
  /** A config, a preset name, or a path to a config.json. Default: config.json beside the checkpoint, else inferred. */
  config?: SamConfig | SamPresetName | string;
}

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
    if (preset.imageEncoder.embedDim === patch.shape[0] && preset.imageEncoder.depth === depth) return name as SamPresetName;
  }
  return null;
}

async function resolveConfig(filePath: string, record: TensorRecord, option: LoadSamOptions['config']): Promise<SamConfig> {
  if (option && typeof option === 'object') return option;
  if (typeof option === 'string') {
    if (option in SAM_PRESETS) return SAM_PRESETS[option as SamPresetName];
    return samConfigFromJson(JSON.parse(await fs.promises.readFile(option, 'utf8')));
  }
  const beside = path.join(path.dirname(filePath), 'config.json');
  if (fs.existsSync(beside)) {
    try {
      return samConfigFromJson(JSON.parse(await fs.promises.readFile(beside, 'utf8')));
    } catch (err) {
      throw new Error(`${beside}: ${(err as Error).message}`);
    }
  }
  const preset = inferSamPreset(record);
  if (!preset) throw new Error(`${filePath}: cannot infer the SAM config from the weights; pass a config or a config.json path`);
  return SAM_PRESETS[preset];
}

/**
 * Load a frozen SAM. Nothing is created unless every tensor matches the config (names and shapes),
 * so a failed load leaves no tensors behind.
 */
export async function loadSam(filePath: string, options: LoadSamOptions = {}): Promise<SamModel> {
  if (!fs.existsSync(filePath)) throw new Error(`SAM checkpoint not found: ${filePath}`);
  const record = await readSamCheckpoint(filePath);
  const config = await resolveConfig(filePath, record, options.config);
  const raw: RawWeights = new Map();
  for (const [name, t] of record) raw.set(name, { shape: t.shape, data: toFloat32(t, `${filePath}: ${name}`) });
  const weightsId = await fileSha256(filePath);
  return SamModel.fromWeights(config, raw, { weightsId, source: filePath });
}

/**
 * Reading a SAM checkpoint: safetensors (official or Hugging Face names) or the official `.pth`
 * (zip + pickle, read by a restricted unpickler that never executes code), into tensors under the
 * official names.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { CheckpointFormat, openCheckpoint, readCheckpoint } from '../../io/checkpoint';
import { TensorReader, TensorRecord, toFloat32 } from '../../io/tensor-record';
import { SAM_PRESETS, SamPresetName } from '../config';
import { RawWeight, RawWeights, WeightSource } from './params';
import { officialNameMap, sameTensor, toOfficialNames } from './weight-names';

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

/** The official preset whose encoder width and depth match the weights (by shape), if any. */
export function inferSamPreset(record: ReadonlyMap<string, { shape: number[] }>): SamPresetName | null {
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

/** Recently read tensors kept, for a module that asks for a weight and its bias in turn, again. */
const RECENT = 2;

/**
 * A checkpoint's tensors as float32 weights under official names, each read from the file when
 * asked: a model built from it has one tensor at a time in JS memory, not the whole checkpoint
 * beside its copy on the backend. Close it after the build.
 */
export class CheckpointWeights implements WeightSource {
  private readonly recent = new Map<string, RawWeight>();

  private constructor(
    private readonly reader: TensorReader,
    /** Official name -> name in the file. */
    private readonly stored: Map<string, string>,
    readonly filePath: string,
  ) {}

  static async open(filePath: string): Promise<CheckpointWeights> {
    const { reader } = await openCheckpoint(filePath);
    try {
      const names = officialNameMap([...reader.entries.keys()], (tied, shared) =>
        sameTensor(reader.readSync(tied), reader.readSync(shared)),
      );
      return new CheckpointWeights(reader, names, filePath);
    } catch (err) {
      await reader.close();
      throw new Error(`${filePath}: ${(err as Error).message}`);
    }
  }

  /** Every tensor's shape under its official name, read from the file's header (no data). */
  get shapes(): Map<string, { shape: number[] }> {
    return new Map(
      [...this.stored].map(([official, name]) => [official, { shape: this.reader.entries.get(name)!.shape }]),
    );
  }

  has(name: string): boolean {
    return this.stored.has(name);
  }

  keys(): MapIterator<string> {
    return this.stored.keys();
  }

  get(name: string): RawWeight | undefined {
    const stored = this.stored.get(name);
    if (stored === undefined) return undefined;
    let weight = this.recent.get(name);
    if (weight === undefined) {
      const tensor = this.reader.readSync(stored);
      weight = { shape: tensor.shape, data: toFloat32(tensor, `${this.filePath}: ${name}`) };
      if (this.recent.size >= RECENT) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(name, weight);
    }
    return weight;
  }

  async close(): Promise<void> {
    this.recent.clear();
    await this.reader.close();
  }
}

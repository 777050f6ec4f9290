/**
 * A frozen SAM from files on disk, named after transformers.js's `from_pretrained`: a model folder
 * (`config.json` and one weights file, as `models/micro-sam/`) or a weights file on its own.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SAM_PRESETS, SamConfig, SamPresetName, samConfigFromJson } from './config';
import { SamMemoryOptions, SamModel } from './modeling/sam-model';
import { planSamMemory } from './memory-plan';
import { CheckpointWeights, fileSha256, inferSamPreset } from './weights/checkpoint';

export interface LoadSamOptions extends SamMemoryOptions {
  /**
   * A config, a preset name, or a path to a config.json. Default: the folder's (or the weights
   * file's neighbouring) config.json, else inferred from the weights' shapes (ViT-B/L/H).
   */
  config?: SamConfig | SamPresetName | string;
}

/** Endings of the weight files a model folder may hold, most preferred first. */
export const SAM_WEIGHT_EXTENSIONS = ['.safetensors', '.pth'] as const;

/** The files a model is built from. */
export interface PretrainedFiles {
  weights: string;
  /** config.json in the folder or beside the weights file, if there is one. */
  config: string | null;
}

/** The weights file of a model folder: the only one of the most preferred kind it holds. */
function weightsInFolder(dir: string): string {
  const names = fs.readdirSync(dir).filter((n) => fs.statSync(path.join(dir, n)).isFile());
  for (const ext of SAM_WEIGHT_EXTENSIONS) {
    const found = names.filter((n) => n.endsWith(ext)).sort();
    if (found.length === 1) return path.join(dir, found[0]);
    if (found.length > 1)
      throw new Error(`${dir}: holds several ${ext} files (${found.join(', ')}); pass the path of the one to load`);
  }
  throw new Error(
    `${dir}: no SAM weights in this folder (expected a ${SAM_WEIGHT_EXTENSIONS.join(' or ')} file beside config.json)`,
  );
}

/** Find the weights and config.json of a model folder or weights file, without reading them. */
export function resolvePretrained(dirOrFile: string): PretrainedFiles {
  if (!fs.existsSync(dirOrFile)) {
    throw new Error(
      `SAM model not found: ${dirOrFile} (expected a folder with config.json and a ${SAM_WEIGHT_EXTENSIONS.join(' or ')} file, or such a file)`,
    );
  }
  const isDir = fs.statSync(dirOrFile).isDirectory();
  const weights = isDir ? weightsInFolder(dirOrFile) : dirOrFile;
  const config = path.join(isDir ? dirOrFile : path.dirname(dirOrFile), 'config.json');
  return { weights, config: fs.existsSync(config) ? config : null };
}

async function readConfigJson(file: string): Promise<SamConfig> {
  try {
    return samConfigFromJson(JSON.parse(await fs.promises.readFile(file, 'utf8')));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** The config named by the option or found beside the weights; null when only the weights can tell. */
async function configFromFiles(files: PretrainedFiles, option: LoadSamOptions['config']): Promise<SamConfig | null> {
  if (option && typeof option === 'object') return option;
  if (typeof option === 'string')
    return option in SAM_PRESETS ? SAM_PRESETS[option as SamPresetName] : readConfigJson(option);
  return files.config ? readConfigJson(files.config) : null;
}

/**
 * Load a frozen SAM from a model folder or a weights file (safetensors or `.pth`, official or
 * Hugging Face tensor names). The config is read before the weights, and nothing is created
 * unless every tensor matches it (names and shapes), so a failed load leaves no tensors behind.
 */
export async function fromPretrained(dirOrFile: string, options: LoadSamOptions = {}): Promise<SamModel> {
  const files = resolvePretrained(dirOrFile);
  let config = await configFromFiles(files, options.config);
  // A model the backend cannot hold is refused before its checkpoint is read.
  if (config) planSamMemory(config, options);
  // Read one tensor at a time as the model is built: the checkpoint is never whole in JS memory.
  const weights = await CheckpointWeights.open(files.weights);
  try {
    if (!config) {
      const preset = inferSamPreset(weights.shapes);
      if (!preset)
        throw new Error(
          `${files.weights}: cannot infer the SAM config from the weights and no config.json is beside them; pass a config or a config.json path`,
        );
      config = SAM_PRESETS[preset];
    }
    const weightsId = await fileSha256(files.weights);
    return SamModel.fromWeights(config, weights, { weightsId, source: files.weights, heapLimit: options.heapLimit });
  } finally {
    await weights.close();
  }
}

/** `fromPretrained` under the name the CLI, runs and scripts use. */
export const loadSam = fromPretrained;

/**
 * Files of micro-SAM training: the exported model (weights.safetensors + config.json, what
 * `loadSam` reads) and the resumable training state (weights, Adam moments, step and RNG state).
 * Every file is written atomically, so an interrupted write leaves the previous one intact.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeAll } from '../io/atomic-file';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { TensorRecord } from '../io/tensor-record';
import { SamConfig, samConfigToJson } from '../sam/config';
import type { RngState } from '../utils/rng';
import type { Adam } from '../nn/adam';

export async function writeTextAtomic(filePath: string, text: string): Promise<void> {
  await writeFileAtomic(filePath, (h) => writeAll(h, new TextEncoder().encode(text)));
}

function variablesRecord(vars: Map<string, tf.Variable>): TensorRecord {
  const rec: TensorRecord = new Map();
  for (const [name, v] of vars)
    rec.set(name, { dtype: 'float32', shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
  return rec;
}

/** weights.safetensors and config.json in `dir`, loadable with `loadSam(dir/weights.safetensors)`. */
export async function exportSamModel(
  dir: string,
  config: SamConfig,
  vars: Map<string, tf.Variable>,
  metadata: Record<string, string> = {},
): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const weightsPath = path.join(dir, 'weights.safetensors');
  await writeSafetensors(weightsPath, variablesRecord(vars), metadata);
  await writeTextAtomic(path.join(dir, 'config.json'), JSON.stringify(samConfigToJson(config), null, 2) + '\n');
  return weightsPath;
}

export interface TrainingState {
  step: number;
  rng: RngState;
  elapsedSeconds: number;
  /** Free-form options the run was started with, checked on resume. */
  options: Record<string, unknown>;
  history: Array<Record<string, number>>;
}

export async function saveTrainingState(
  dir: string,
  vars: Map<string, tf.Variable>,
  optimizer: Adam,
  state: TrainingState,
): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'weights.safetensors'), variablesRecord(vars));
  await writeSafetensors(path.join(dir, 'optimizer.safetensors'), optimizer.toRecord());
  // Written last: a state.json only ever points at complete weight and optimizer files.
  await writeTextAtomic(
    path.join(dir, 'state.json'),
    JSON.stringify({ ...state, optimizerStep: optimizer.step }, null, 1) + '\n',
  );
}

/** Restore variables and optimizer from `dir`; null when there is no saved state. */
export async function loadTrainingState(
  dir: string,
  vars: Map<string, tf.Variable>,
  optimizer: Adam,
): Promise<TrainingState | null> {
  const statePath = path.join(dir, 'state.json');
  let text: string;
  try {
    text = await fsp.readFile(statePath, 'utf8');
  } catch {
    return null;
  }
  const state = JSON.parse(text) as TrainingState & { optimizerStep: number };
  const weights = await readSafetensors(path.join(dir, 'weights.safetensors'));
  for (const [name, v] of vars) {
    const t = weights.tensors.get(name);
    if (!t || t.shape.join() !== v.shape.join())
      throw new Error(`${dir}/weights.safetensors: '${name}' missing or of shape [${t?.shape}], expected [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, v.shape)));
  }
  const opt = await readSafetensors(path.join(dir, 'optimizer.safetensors'));
  optimizer.loadRecord(opt.tensors, state.optimizerStep, `${dir}/optimizer.safetensors`);
  return state;
}

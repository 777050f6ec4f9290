/**
 * SRM checkpoint folders, written atomically (a temporary sibling renamed into place):
 *   srm.json              format, config (with the text encoder's identity), training counters, RNG
 *   weights.safetensors   network weights by logical name
 *   optimizer.safetensors Adam moments
 *   replay.safetensors    the replay of recent states the online updates sample from, and the
 *                         embeddings it names (so a resumed run draws the same minibatches)
 * A folder without replay.safetensors (an older one) loads with an empty replay. An export keeps
 * only what inference needs (`contents: 'weights'`: srm.json and weights.safetensors, a tenth of the
 * size); loaded, it labels as the checkpoint did and trains on, if asked, from fresh Adam moments.
 */
import * as path from 'node:path';
import { writeFolderAtomic } from '../io/atomic-folder';
import { readJsonFile, writeJsonFile } from '../io/json-file';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { TextEncoderIdentity } from '../text/text-encoder';
import type { RngState } from '../utils/rng';
import { pretrainingConfig, validateSrmConfig, withSavedState, type SrmConfig } from './srm-config';
import { SemanticRecalibrationModule, type SrmUpdateStats } from './srm';
import type { SrmReplayState } from './srm-replay';

export const SRM_CHECKPOINT_FORMAT = 'alignsam-srm-checkpoint';
export const SRM_CHECKPOINT_VERSION = 1;

interface SrmCheckpointJson {
  format: string;
  formatVersion: number;
  config: SrmConfig;
  state: {
    optimizerStep: number;
    updates: number;
    rng: RngState;
    replay?: SrmReplayState;
    lastStats?: SrmUpdateStats | null;
    /** Written by `contents: 'weights'`: no optimizer.safetensors or replay.safetensors beside it. */
    weightsOnly?: boolean;
  };
}

export interface SaveSrmOptions {
  /**
   * 'checkpoint' (default): weights, Adam moments and the replay, so that training resumes exactly;
   * 'weights': the config and weights only, for an exported agent.
   */
  contents?: 'checkpoint' | 'weights';
}

function checkLastStats(v: unknown, file: string): SrmUpdateStats | null {
  if (v === null) return null;
  const s = v as SrmUpdateStats;
  if (!s || !(['loss', 'bce', 'dice', 'updates'] as const).every((k) => Number.isFinite(s[k])))
    throw new Error(`${file}: 'state.lastStats' must be null or hold finite loss, bce, dice and updates`);
  return { loss: s.loss, bce: s.bce, dice: s.dice, updates: s.updates };
}

export async function saveSrm(
  srm: SemanticRecalibrationModule,
  dir: string,
  options: SaveSrmOptions = {},
): Promise<void> {
  const s = srm.serialize();
  const t = srm.trainingState();
  const replay = options.contents === 'weights' ? null : srm.replayRecord();
  const state: SrmCheckpointJson['state'] = replay
    ? { optimizerStep: t.optimizerStep, updates: t.updates, rng: t.rng, replay: replay.state, lastStats: srm.lastStats }
    : { optimizerStep: 0, updates: t.updates, rng: t.rng, lastStats: srm.lastStats, weightsOnly: true };
  await writeFolderAtomic(dir, async (tmp) => {
    await writeSafetensors(path.join(tmp, 'weights.safetensors'), s.weights);
    if (replay) {
      await writeSafetensors(path.join(tmp, 'optimizer.safetensors'), t.optimizer);
      await writeSafetensors(path.join(tmp, 'replay.safetensors'), replay.record);
    }
    const json: SrmCheckpointJson = {
      format: SRM_CHECKPOINT_FORMAT,
      formatVersion: SRM_CHECKPOINT_VERSION,
      config: s.config,
      state,
    };
    await writeJsonFile(path.join(tmp, 'srm.json'), json);
  });
}

export interface LoadSrmOptions {
  /**
   * The encoder whose vectors the loaded SRM will see: checked against the one it was trained
   * with (explicit branch). Omit only when the caller checks it itself.
   */
  textEncoder?: TextEncoderIdentity | null;
}

export async function loadSrm(dir: string, options: LoadSrmOptions = {}): Promise<SemanticRecalibrationModule> {
  const file = path.join(dir, 'srm.json');
  const json = await readJsonFile<SrmCheckpointJson>(file);
  if (json?.format !== SRM_CHECKPOINT_FORMAT)
    throw new Error(`${file}: not an SRM checkpoint (format ${JSON.stringify(json?.format)})`);
  if (json.formatVersion !== SRM_CHECKPOINT_VERSION)
    throw new Error(
      `${file}: unsupported formatVersion ${json.formatVersion} (this build reads ${SRM_CHECKPOINT_VERSION})`,
    );
  if (!json.config || !json.state) throw new Error(`${file}: missing 'config' or 'state'`);
  json.config = withSavedState(json.config);
  validateSrmConfig(json.config, `${file}: config`);
  const weightsFile = path.join(dir, 'weights.safetensors');
  const optimFile = path.join(dir, 'optimizer.safetensors');
  const weightsOnly = json.state.weightsOnly === true;
  if (json.state.weightsOnly !== undefined && typeof json.state.weightsOnly !== 'boolean')
    throw new Error(`${file}: 'state.weightsOnly' must be a boolean, got ${JSON.stringify(json.state.weightsOnly)}`);
  const weights = (await readSafetensors(weightsFile)).tensors;
  const optimizer = weightsOnly ? null : (await readSafetensors(optimFile)).tensors;
  const lastStats = json.state.lastStats === undefined ? null : checkLastStats(json.state.lastStats, file);
  const replayFile = path.join(dir, 'replay.safetensors');
  const replay = weightsOnly || json.state.replay === undefined ? null : (await readSafetensors(replayFile)).tensors;
  const srm = SemanticRecalibrationModule.deserialize(
    { format: 'alignsam-srm', formatVersion: 1, config: json.config, weights },
    weightsFile,
  );
  try {
    if (optimizer)
      srm.restoreTrainingState(
        { optimizer, optimizerStep: json.state.optimizerStep, updates: json.state.updates, rng: json.state.rng },
        optimFile,
      );
    if (replay) srm.restoreReplay(replay, json.state.replay!, `${file} and ${replayFile}`);
    srm.lastStats = lastStats;
    if (options.textEncoder !== undefined) srm.checkTextEncoder(options.textEncoder, dir);
  } catch (err) {
    srm.dispose();
    throw err;
  }
  return srm;
}

/**
 * Load a pre-trained SRM's weights and training state into `srm`, whose config must be the same
 * but for online training's settings (the pre-training cache: a run continues exactly as if it
 * had pre-trained itself).
 */
export async function loadSrmInto(srm: SemanticRecalibrationModule, dir: string): Promise<void> {
  const saved = await loadSrm(dir);
  try {
    const a = JSON.stringify(pretrainingConfig(saved.config));
    const b = JSON.stringify(pretrainingConfig(srm.config));
    if (a !== b) throw new Error(`${dir}: the saved SRM's config differs from this run's (${a} vs ${b})`);
    srm.net.params.loadRecord(saved.net.params.toRecord(), path.join(dir, 'weights.safetensors'));
    const state = saved.trainingState();
    srm.restoreTrainingState(state, path.join(dir, 'optimizer.safetensors'));
  } finally {
    saved.dispose();
  }
}

/**
 * What a run's checkpoint holds beyond the agent and the SRM, so that `--resume` goes on exactly as
 * the run would have without the interruption:
 *   run.json         format tag; the training envs' sample RNGs and episodes in flight (their
 *                    scalars); the episode statistics the logs report; the best evaluation IoU
 *   env.safetensors  the envs' arrays (click maps, SAM's current low-res logits, labeler scores)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile, writeJsonFile } from '../io/json-file';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import {
  promptEnvStatesFromRecord,
  promptEnvStatesToRecord,
  type PromptEnvState,
  type PromptEnvStateJson,
} from '../env/prompt/prompt-env-state';
import type { EpisodeStatsState } from './monitor';

export const RUN_STATE_FORMAT = 'alignsam-tfjs/run-state';
export const RUN_STATE_VERSION = 1;
export const RUN_STATE_FILE = 'run.json';
const ENV_FILE = 'env.safetensors';

export interface RunState {
  envs: PromptEnvState[];
  episodeStats: EpisodeStatsState;
  /** Final IoU of the best periodic evaluation so far (null: none yet). */
  bestEvalIou: number | null;
}

interface RunStateJson {
  format: string;
  formatVersion: number;
  envs: PromptEnvStateJson[];
  episodeStats: EpisodeStatsState;
  bestEvalIou: number | null;
}

/** Write run.json and env.safetensors into `dir` (a checkpoint folder being written atomically). */
export async function writeRunState(dir: string, state: RunState): Promise<void> {
  const { json, record } = promptEnvStatesToRecord(state.envs);
  await writeSafetensors(path.join(dir, ENV_FILE), record);
  const out: RunStateJson = {
    format: RUN_STATE_FORMAT,
    formatVersion: RUN_STATE_VERSION,
    envs: json,
    episodeStats: state.episodeStats,
    bestEvalIou: state.bestEvalIou,
  };
  await writeJsonFile(path.join(dir, RUN_STATE_FILE), out);
}

export function hasRunState(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_STATE_FILE));
}

/**
 * The run state of a checkpoint folder. The file's shape is checked here (errors name the file and
 * the field); whether the envs' states fit the envs is checked by the envs' setState.
 */
export async function readRunState(dir: string): Promise<RunState> {
  const file = path.join(dir, RUN_STATE_FILE);
  const json = await readJsonFile<RunStateJson>(file);
  if (json?.format !== RUN_STATE_FORMAT)
    throw new Error(`${file}: not a run state (format ${JSON.stringify(json?.format)})`);
  if (json.formatVersion !== RUN_STATE_VERSION)
    throw new Error(`${file}: unsupported formatVersion ${json.formatVersion} (this build reads ${RUN_STATE_VERSION})`);
  if (!Array.isArray(json.envs) || json.envs.length === 0)
    throw new Error(`${file}: 'envs' must be a non-empty list of env states`);
  if (!json.episodeStats || typeof json.episodeStats !== 'object')
    throw new Error(`${file}: 'episodeStats' is missing`);
  if (json.bestEvalIou !== null && !Number.isFinite(json.bestEvalIou))
    throw new Error(`${file}: 'bestEvalIou' must be a number or null, got ${JSON.stringify(json.bestEvalIou)}`);
  const envFile = path.join(dir, ENV_FILE);
  const record = (await readSafetensors(envFile)).tensors;
  return {
    envs: promptEnvStatesFromRecord(json.envs, record, `${file} and ${envFile}`),
    episodeStats: json.episodeStats,
    bestEvalIou: json.bestEvalIou,
  };
}

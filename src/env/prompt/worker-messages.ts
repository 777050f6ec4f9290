/**
 * What crosses the thread boundary between `SamPromptWorkerVectorEnv` and its workers. Tensors
 * cannot cross: an observation travels with its embedding's key, and the main thread resolves the
 * key through the shared disk cache.
 */
import type { Info } from '../types';
import type { PromptEnvState } from './prompt-env-state';
import type { InitialPrompts, PromptEnvSettings } from './prompt-env-options';
import type { PromptObservation } from './observation';

/**
 * A worker's env, as JSON: everything a worker needs to build its share of the envs. The settings
 * are the env's (prompt-env-options.ts), less what needs the labeler in the worker.
 */
export interface WorkerPromptEnvConfig extends Partial<
  Omit<PromptEnvSettings, 'initialPrompts' | 'observeLabeler' | 'seed'>
> {
  /** SAM checkpoint path (config.json beside it, or inferred). */
  checkpoint: string;
  /** Embedding disk cache shared by all workers and the main thread. */
  cacheDir: string;
  /** A data set config for `createDataset` (src/data/factory.ts). */
  data: Record<string, unknown>;
  /** Folder relative data paths resolve against. */
  dataBaseDir?: string;
  initialPrompts?: Exclude<InitialPrompts, 'labeler'>;
  reward?: unknown;
  rewardBaseDir?: string;
  backend?: string;
}

export type SerializedObservation = Omit<PromptObservation, 'embedding' | 'textVector'> & { embeddingKey: string };

export interface SerializedStep {
  observations: SerializedObservation[];
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Infos with `final_observation` serialized too. */
  infos: Info[];
}

export type WorkerRequest =
  | { id: number; cmd: 'init'; config: WorkerPromptEnvConfig; numEnvs: number; seed: number }
  | { id: number; cmd: 'reset'; seed?: number }
  | { id: number; cmd: 'step'; actions: number[]; labels: (0 | 1)[] | null }
  | { id: number; cmd: 'getState' }
  | { id: number; cmd: 'setState'; states: PromptEnvState[]; source: string }
  | { id: number; cmd: 'close' };

/** A worker's envs after `setState`: their observations and their samples' target names. */
export interface SerializedRestore {
  observations: SerializedObservation[];
  targetNames: (string | null)[];
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export function serializeObservation(o: PromptObservation): SerializedObservation {
  return {
    embeddingKey: o.embedding.key,
    maskProbs: o.maskProbs,
    clicksPositive: o.clicksPositive,
    clicksNegative: o.clicksNegative,
    stepFraction: o.stepFraction,
    actionMask: o.actionMask,
  };
}

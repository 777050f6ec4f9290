/**
 * From a resolved config to the objects a run needs: the frozen SAM, the embedding cache, the
 * training and evaluation data sets, target-name vectors, the click labeler, the vector env, the
 * evaluation env and the agent. Each builder names the config key behind a failure.
 */
import * as fs from 'fs';
import * as path from 'path';
import { evalInitialPrompts, type AlignSamConfig } from '../config/alignsam-config';
import { camelCaseKeys, snakeCase } from '../schema/key-case';
import { DQN, DQNOptions } from '../agent/dqn/dqn';
import { PPO, PPOOptions } from '../agent/ppo/ppo';
import type { NetArchitecture } from '../agent/base-agent';
import { createDataset, type DatasetConfig } from '../data/factory';
import type { SegmentationDataset } from '../data/types';
import type { ClickLabeler } from '../env/prompt/labeler';
import { SamPromptEnv, type SamPromptEnvOptions } from '../env/prompt/sam-prompt-env';
import { SamPromptVectorEnv } from '../env/prompt/sam-prompt-vector-env';
import { SamPromptWorkerVectorEnv } from '../env/prompt/sam-prompt-worker-env';
import type { PromptObservation } from '../env/prompt/observation';
import { promptEnvSettings, type PromptEnvSettings } from '../env/prompt/prompt-env-options';
import type { VectorEnv } from '../env/vector/types';
import { loadSam } from '../sam/pretrained';
import { EmbeddingCache } from '../sam/embedding-cache';
import { EncoderPool, resolveEncoderWorkers } from '../sam/encoder-pool';
import type { SamModel } from '../sam/modeling/sam-model';
import { createTextEncoder } from '../text/create-text-encoder';
import type { TextEncoder } from '../text/text-encoder';
import { SemanticRecalibrationModule } from '../recalibration/srm';
import { loadSrm, saveSrm } from '../recalibration/srm-io';
import { withSrmTraining } from '../recalibration/srm-training';
import { textEncoderIdentity } from '../text/text-encoder';
import { NotAvailableError } from './not-available';

/** The repository root (where models/ and configs/ live), from this file's place in src/runs or dist/runs. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
export const MICRO_SAM_DIR = path.join(PACKAGE_ROOT, 'models', 'micro-sam');

/** The weights file of the embedded micro-SAM, or a NotAvailableError saying what is missing. */
export function microSamWeights(dir = MICRO_SAM_DIR): string {
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
    : [];
  if (files.length === 0) {
    throw new NotAvailableError(
      'the embedded micro-SAM (sam.checkpoint: micro)',
      `${dir} holds no .safetensors weights; scripts/micro-sam-torch/train-on-gpu.sh (GPU) or scripts/train-micro-sam.ts (CPU, slow) produces them. Meanwhile set sam.checkpoint to a SAM checkpoint file`,
    );
  }
  const preferred = ['weights.safetensors', 'model.safetensors'].find((f) => files.includes(f));
  return path.join(dir, preferred ?? files[0]);
}

export async function loadSamFromConfig(config: AlignSamConfig): Promise<SamModel> {
  const ckpt = config.sam.checkpoint === 'micro' ? microSamWeights() : config.sam.checkpoint;
  try {
    return await loadSam(ckpt, config.sam.config ? { config: config.sam.config } : {});
  } catch (err) {
    throw new Error(`sam.checkpoint: ${(err as Error).message}`);
  }
}

/**
 * The run's embedding cache. With `encoderWorkers` (the config's `sam` loaded by
 * `loadSamFromConfig`, so the workers can load the same file), missing embeddings are computed
 * on that many worker threads (null: env.embedding_cache.workers, whose null is one per core);
 * the caller closes `cache.encoder`.
 */
export function createEmbeddingCache(
  config: AlignSamConfig,
  sam: SamModel,
  opts: { encoderWorkers?: number | null } = {},
): EmbeddingCache {
  const c = config.env.embedding_cache;
  let encoder: EncoderPool | undefined;
  if (opts.encoderWorkers !== undefined) {
    const checkpoint = path.resolve(config.sam.checkpoint === 'micro' ? microSamWeights() : config.sam.checkpoint);
    let workers: number;
    try {
      workers = resolveEncoderWorkers(opts.encoderWorkers ?? c.workers, checkpoint, sam.config);
    } catch (err) {
      throw opts.encoderWorkers === null ? new Error(`env.embedding_cache.workers: ${(err as Error).message}`) : err;
    }
    if (workers > 1) encoder = new EncoderPool({ checkpoint, config: sam.config, workers, weightsId: sam.weightsId });
  }
  return new EmbeddingCache(sam, { dir: c.dir ?? undefined, maxInMemory: c.max_in_memory, encoder });
}

export type DataSplit = 'train' | 'val' | 'test';

/** The data factory's config for one split (src/data/factory.ts uses camelCase keys). */
export function datasetConfig(config: AlignSamConfig, split: DataSplit): DatasetConfig {
  const d = config.data;
  const onBadSample = d.on_bad_sample;
  const fractions: [number, number, number] = [
    1 - d.split.val_fraction - d.split.test_fraction,
    d.split.val_fraction,
    d.split.test_fraction,
  ];
  if (d.type === 'synthetic') {
    const syn = d.synthetic;
    return {
      type: 'synthetic',
      split,
      seed: syn.seed,
      length: split === 'train' ? syn.length : syn.eval_length,
      imageSize: syn.image_size,
      categories: syn.categories,
      ...(syn.targets ? { targets: syn.targets } : {}),
      textures: syn.textures,
      distractors: syn.distractors,
      sizeRange: syn.size_range,
      camouflage: syn.camouflage,
      multi: syn.multi,
      multiTarget: syn.multi_target,
    };
  }
  if (d.type === 'coco') {
    const c = d.coco;
    return {
      type: 'coco',
      split,
      splitFractions: fractions,
      splitSeed: d.split.seed,
      annotations: c.annotation_file!,
      ...(c.images_dir ? { images: c.images_dir } : {}),
      ...(c.categories ? { categories: c.categories } : {}),
      mode: c.mode,
      minArea: c.min_area,
      skipCrowd: c.skip_crowd,
      onBadSample,
    };
  }
  const f = d.folder;
  return {
    type: 'folder',
    split,
    splitFractions: fractions,
    splitSeed: d.split.seed,
    root: f.root!,
    ...(f.images_dir ? { images: f.images_dir } : {}),
    ...(f.masks_dir ? { masks: f.masks_dir } : {}),
    maskFormat: f.mask_format,
    target: f.target,
    targetName: f.target_name,
    ...(f.names_file ? { namesFile: f.names_file } : {}),
    onBadSample,
  };
}

export async function createDatasetForSplit(config: AlignSamConfig, split: DataSplit): Promise<SegmentationDataset> {
  const ds = await createDataset(datasetConfig(config, split), {
    prefix: `data (${config.data.type}, ${split} split)`,
  });
  if (ds.length === 0) throw new Error(`data: the ${split} split of '${ds.name}' is empty`);
  return ds;
}

export async function createTextEncoderFromConfig(config: AlignSamConfig): Promise<TextEncoder | null> {
  const t = config.text;
  if (t.encoder === 'none') return null;
  if (t.encoder === 'hashed') return createTextEncoder({ type: 'hashed', dim: t.dim });
  return createTextEncoder({ type: 'use', dir: t.use_dir!, fallback: false });
}

/**
 * The env's synchronous text lookup: names known ahead (the data sets' categories, and the target
 * names of the samples) are embedded once here.
 */
export async function textLookup(
  encoder: TextEncoder,
  datasets: readonly SegmentationDataset[],
  extraNames: readonly string[] = [],
): Promise<(name: string) => Float32Array> {
  const names = new Set<string>(['', ...extraNames]);
  for (const ds of datasets) {
    if (ds.categories) for (const c of ds.categories) names.add(c);
    else
      throw new Error(
        `text: data set '${ds.name}' does not list its target names, so they cannot be embedded ahead of training`,
      );
  }
  const list = [...names];
  const vectors = await encoder.embed(list);
  const table = new Map(list.map((n, i) => [n, vectors[i]]));
  return (name: string) => {
    const v = table.get(name);
    if (!v)
      throw new Error(
        `text: target name '${name}' was not among the data set's categories (${list.filter(Boolean).join(', ')})`,
      );
    return v;
  };
}

/** The click labeler (the SRM) when the config asks for one, with its training and saving hooks. */
export interface LabelerParts {
  labeler: ClickLabeler;
  srm: SemanticRecalibrationModule;
  /** Wrap the training vector env so the SRM learns online (q updates per step), as the paper. */
  wrapTrainingEnv(env: TrainVecEnv): VectorEnv<PromptObservation, number>;
  /** The SRM's latest losses, for the logs. */
  metrics(): Record<string, number>;
  /** Save into `<dir>/srm` (beside the agent's files of a checkpoint). */
  save(dir: string): Promise<void>;
}

export interface RunParts {
  sam: SamModel;
  cache: EmbeddingCache;
  trainData: SegmentationDataset;
  evalData: SegmentationDataset;
  text: TextEncoder | null;
  textVector?: (name: string) => Float32Array;
  labeler: LabelerParts | null;
  dispose(): void;
}

/** Where a checkpoint keeps its SRM. */
export function srmDirOf(checkpointDir: string): string {
  return path.join(checkpointDir, 'srm');
}

async function createSrm(
  config: AlignSamConfig,
  sam: SamModel,
  text: TextEncoder | null,
  checkpointDir: string | undefined,
): Promise<LabelerParts> {
  let srm: SemanticRecalibrationModule;
  if (checkpointDir) {
    const dir = srmDirOf(checkpointDir);
    if (!fs.existsSync(path.join(dir, 'srm.json')))
      throw new Error(`${checkpointDir}: srm.enabled but the checkpoint holds no SRM (${dir}/srm.json)`);
    srm = await loadSrm(dir, { textEncoder: text ? textEncoderIdentity(text) : null });
  } else {
    srm = new SemanticRecalibrationModule({
      branch: config.srm.branch,
      gridSize: config.env.grid_size,
      embedChannels: sam.config.maskDecoder.transformerDim,
      textDim: config.srm.branch === 'explicit' ? (text?.dim ?? 0) : 0,
      textEncoder: config.srm.branch === 'explicit' && text ? textEncoderIdentity(text) : null,
      state: config.srm.state,
      cellTruth: config.srm.cell_truth,
      updatesPerStep: config.srm.q,
      learningRate: config.srm.learning_rate,
      seed: config.train.seed,
    });
  }
  return {
    labeler: srm,
    srm,
    wrapTrainingEnv: (env) => withSrmTraining(env, srm),
    metrics: (): Record<string, number> => {
      const s = srm.lastStats;
      return s ? { 'srm/loss': s.loss, 'srm/bce': s.bce, 'srm/dice': s.dice, 'srm/updates': srm.updates } : {};
    },
    save: (dir) => saveSrm(srm, srmDirOf(dir)),
  };
}

/**
 * Everything but the envs and the agent. `srmCheckpointDir`: load the SRM saved in that agent
 * checkpoint (resume, evaluation) instead of creating a fresh one.
 */
export async function createRunParts(
  config: AlignSamConfig,
  opts: { sam?: SamModel; srmCheckpointDir?: string } = {},
): Promise<RunParts> {
  const sam = opts.sam ?? (await loadSamFromConfig(config));
  // Encoder workers load the config's checkpoint: not for a model handed in, and not for 'async'
  // envs, whose workers compute their own embeddings.
  const cache = createEmbeddingCache(
    config,
    sam,
    !opts.sam && config.env.vector === 'sync' ? { encoderWorkers: null } : {},
  );
  try {
    const trainData = await createDatasetForSplit(config, 'train');
    const evalData = await createDatasetForSplit(config, config.data.eval_split);
    const text = await createTextEncoderFromConfig(config);
    const textVector = text ? await textLookup(text, [trainData, evalData]) : undefined;
    const labeler = config.srm.enabled ? await createSrm(config, sam, text, opts.srmCheckpointDir) : null;
    return {
      sam,
      cache,
      trainData,
      evalData,
      text,
      textVector,
      labeler,
      dispose() {
        labeler?.srm.dispose();
        cache.clear();
        void cache.encoder?.close();
        if (!opts.sam) sam.dispose();
      },
    };
  } catch (err) {
    cache.clear();
    void cache.encoder?.close();
    if (!opts.sam) sam.dispose();
    throw err;
  }
}

type RunEnvSettings = Pick<PromptEnvSettings, keyof typeof promptEnvSettings>;

/** The env's settings in the config's env section (the same schema under snake_case keys). */
export function envSettings(config: AlignSamConfig): RunEnvSettings {
  const e = config.env as Record<string, unknown>;
  return Object.fromEntries(Object.keys(promptEnvSettings).map((k) => [k, e[snakeCase(k)]])) as RunEnvSettings;
}

/** Options of one prompting env for training or evaluation. */
export function envOptions(config: AlignSamConfig, parts: RunParts, purpose: 'train' | 'eval'): SamPromptEnvOptions {
  return {
    ...envSettings(config),
    initialPrompts: purpose === 'eval' ? evalInitialPrompts(config) : config.env.initial_prompts,
    // Without the SRM there are no cell scores to show.
    observeLabeler: config.env.observe_labeler && parts.labeler !== null,
    dataset: purpose === 'train' ? parts.trainData : parts.evalData,
    embeddings: parts.cache,
    labeler: parts.labeler?.labeler,
    reward: config.reward.terms ?? config.reward.preset ?? 'alignsam',
    textVector: parts.textVector,
    textDim: parts.text?.dim ?? 0,
    seed: config.train.seed,
  };
}

/** The training vector env: one thread with batched SAM decodes ('sync'), or envs sharded over worker threads ('async'). */
export async function createTrainEnv(
  config: AlignSamConfig,
  parts: RunParts,
  opts: { backend?: string } = {},
): Promise<TrainVecEnv> {
  if (config.env.vector === 'sync') {
    return new SamPromptVectorEnv({
      ...envOptions(config, parts, 'train'),
      numEnvs: config.env.num_envs,
      autoresetMode: 'same-step',
    });
  }
  const e = config.env;
  if (e.embedding_cache.dir === null)
    throw new Error(
      "env.vector 'async': the workers share embeddings through the disk cache; set env.embedding_cache.dir",
    );
  if (e.initial_prompts === 'labeler')
    throw new Error(
      "env.vector 'async': initial_prompts 'labeler' runs the SRM in the workers, which is not supported; use 'ground-truth' or 'none'",
    );
  const { initialPrompts, observeLabeler, ...settings } = envSettings(config);
  if (observeLabeler && parts.labeler !== null)
    throw new Error(
      "env.vector 'async': observe_labeler runs the SRM in the workers, which is not supported; set it to false or use env.vector 'sync'",
    );
  const workers = await SamPromptWorkerVectorEnv.create({
    numEnvs: e.num_envs,
    numWorkers: e.workers,
    env: {
      checkpoint: path.resolve(config.sam.checkpoint === 'micro' ? microSamWeights() : config.sam.checkpoint),
      cacheDir: path.resolve(e.embedding_cache.dir),
      data: datasetConfig(config, 'train') as unknown as Record<string, unknown>,
      dataBaseDir: process.cwd(),
      ...settings,
      initialPrompts: initialPrompts as Exclude<typeof initialPrompts, 'labeler'>,
      reward: config.reward.terms ?? config.reward.preset ?? 'alignsam',
      backend: opts.backend,
    },
    embeddings: parts.cache,
    labeler: parts.labeler?.labeler,
    textVector: parts.textVector,
    textDim: parts.text?.dim ?? 0,
    seed: config.train.seed,
  });
  return workers;
}

export type TrainVecEnv = SamPromptVectorEnv | VectorEnv<PromptObservation, number>;

export function createEvalEnv(config: AlignSamConfig, parts: RunParts): SamPromptEnv {
  return new SamPromptEnv(envOptions(config, parts, 'eval'));
}

function netOptions(config: AlignSamConfig): Partial<NetArchitecture> {
  return camelCaseKeys(config.agent.net);
}

export function ppoOptions(config: AlignSamConfig): Partial<PPOOptions> {
  return { seed: config.train.seed, net: netOptions(config), verbose: 0, ...camelCaseKeys(config.agent.ppo) };
}

export function dqnOptions(config: AlignSamConfig): Partial<DQNOptions> {
  return { seed: config.train.seed, net: netOptions(config), verbose: 0, ...camelCaseKeys(config.agent.dqn) };
}

export type Agent = PPO | DQN;

export function createAgent(config: AlignSamConfig, env: ConstructorParameters<typeof PPO>[0]): Agent {
  return config.agent.algo === 'ppo' ? new PPO(env, ppoOptions(config)) : new DQN(env, dqnOptions(config));
}

/** Load an agent checkpoint folder (its agent.json says PPO or DQN). */
export async function loadAgent(dir: string, env: ConstructorParameters<typeof PPO>[0] | null): Promise<Agent> {
  const file = path.join(dir, 'agent.json');
  if (!fs.existsSync(file)) throw new Error(`${dir} is not an agent checkpoint: agent.json is missing`);
  const algo = (JSON.parse(fs.readFileSync(file, 'utf8')) as { algo?: string }).algo;
  const opts = env ? { env } : {};
  if (algo === 'PPO') return PPO.load(dir, opts);
  if (algo === 'DQN') return DQN.load(dir, opts);
  throw new Error(`${file}: unknown algo ${JSON.stringify(algo)}`);
}

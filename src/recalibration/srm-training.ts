/**
 * Feeding the SRM its training data from the prompting env:
 * - `withSrmTraining(vecEnv, srm)`: a vector env that, after every reset and step, records each
 *   sub-env's new observation with its ground truth on the grid (`info.cell_fractions`) and runs
 *   the SRM's q updates: the paper's online training, with no change to the RL trainer.
 * - `pretrainSrm(srm, env, ...)`: optional pre-training on ground truth before RL, over states
 *   reached by random clicks.
 * - `collectSrmExamples(env, ...)`: held-out observations for `evaluateSrm`, holding their
 *   embeddings (shared handles) until disposed.
 */
import { EmbeddingStore } from '../env/prompt/embedding-store';
import type { PromptObservation } from '../env/prompt/observation';
import type { Env, Info } from '../env/types';
import type { VectorEnv, VectorResetOptions, VectorResetResult, VectorStepResult } from '../env/vector/types';
import { Rng } from '../utils/rng';
import type { SrmCellTruth } from './srm-config';
import type { SrmExample } from './evaluate-srm';
import type { SemanticRecalibrationModule, SrmUpdateStats } from './srm';

/** The ground truth on the grid that an SRM with `cellTruth` learns, from a prompting env's info. */
export function cellTruthOf(info: Info, cellTruth: SrmCellTruth, where: string): Float32Array {
  const key = cellTruth === 'centre' ? 'cell_centres' : 'cell_fractions';
  const f = info[key];
  if (!(f instanceof Float32Array))
    throw new Error(
      `${where}: info.${key} is missing (the SRM trains on the prompting env's ground truth on the grid, cellTruth '${cellTruth}')`,
    );
  return f;
}

/** A random allowed action (seeded). */
export function randomAllowedAction(actionMask: ArrayLike<number>, rng: Rng): number {
  let n = 0;
  for (let a = 0; a < actionMask.length; a++) if (actionMask[a]) n++;
  if (n === 0) throw new Error('no allowed action (the action mask is all zeros)');
  let k = rng.int(n);
  for (let a = 0; a < actionMask.length; a++) if (actionMask[a] && k-- === 0) return a;
  return -1;
}

export interface SrmTrainingOptions {
  /** Record reset observations too (the t = 0 state). Default true. */
  recordResets?: boolean;
  /** Called with each step's update stats (for logging). */
  onUpdate?: (stats: SrmUpdateStats) => void;
}

/** A vector env that trains `srm` online on the observations it hands out. */
export class SrmTrainingVectorEnv implements VectorEnv<PromptObservation, number> {
  constructor(
    readonly env: VectorEnv<PromptObservation, number>,
    readonly srm: SemanticRecalibrationModule,
    private readonly options: SrmTrainingOptions = {},
  ) {}

  get numEnvs() {
    return this.env.numEnvs;
  }
  get singleObservationSpace() {
    return this.env.singleObservationSpace;
  }
  get singleActionSpace() {
    return this.env.singleActionSpace;
  }
  get autoresetMode() {
    return this.env.autoresetMode;
  }

  private truths(infos: readonly Info[]): Float32Array[] {
    return infos.map((info, i) => cellTruthOf(info, this.srm.config.cellTruth, `env ${i}`));
  }

  private train(observations: readonly PromptObservation[], infos: readonly Info[]): void {
    const stats = this.srm.observe(observations, this.truths(infos));
    this.options.onUpdate?.(stats);
  }

  async reset(opts?: VectorResetOptions): Promise<VectorResetResult<PromptObservation>> {
    const r = await this.env.reset(opts);
    if (this.options.recordResets !== false) this.srm.record(r.observations, this.truths(r.infos));
    return r;
  }

  async step(actions: ArrayLike<number>): Promise<VectorStepResult<PromptObservation>> {
    const r = await this.env.step(actions);
    // Every observation handed out pairs with its own episode's truth: in 'same-step' mode a
    // finished env's observation and info both come from the new episode; in 'next-step' mode
    // both come from the finished one.
    this.train(r.observations, r.infos);
    return r;
  }

  render() {
    return this.env.render();
  }

  close() {
    return this.env.close();
  }
}

export function withSrmTraining(
  env: VectorEnv<PromptObservation, number>,
  srm: SemanticRecalibrationModule,
  options: SrmTrainingOptions = {},
): SrmTrainingVectorEnv {
  return new SrmTrainingVectorEnv(env, srm, options);
}

export interface RandomRolloutOptions {
  /** Episodes to run. */
  episodes: number;
  /** Random clicks per episode (capped by the env's horizon). Default: until the episode ends. */
  clicksPerEpisode?: number;
  seed?: number;
  /** The ground truth on the grid handed out with each observation (default 'area'). */
  cellTruth?: SrmCellTruth;
}

/** Runs random-click episodes and hands each observation with its truth to `visit`. */
async function randomRollouts(
  env: Env<PromptObservation, number>,
  opts: RandomRolloutOptions,
  visit: (o: PromptObservation, fractions: Float32Array) => void,
): Promise<void> {
  if (!(Number.isInteger(opts.episodes) && opts.episodes > 0))
    throw new Error(`episodes must be a positive integer, got ${opts.episodes}`);
  const rng = new Rng(opts.seed ?? 0);
  const truth = opts.cellTruth ?? 'area';
  for (let ep = 0; ep < opts.episodes; ep++) {
    let { observation, info } = await env.reset(ep === 0 ? { seed: opts.seed ?? 0 } : {});
    visit(observation, cellTruthOf(info, truth, 'env'));
    for (let k = 0; k < (opts.clicksPerEpisode ?? Infinity); k++) {
      const r = await env.step(randomAllowedAction(observation.actionMask, rng));
      observation = r.observation;
      visit(observation, cellTruthOf(r.info, truth, 'env'));
      if (r.terminated || r.truncated) break;
    }
  }
}

/**
 * Pre-trains the SRM on ground truth: random-click episodes (use an env labelled by the oracle),
 * q updates after each observation. Returns the mean loss of the last episode's updates.
 */
export async function pretrainSrm(
  srm: SemanticRecalibrationModule,
  env: Env<PromptObservation, number>,
  opts: Omit<RandomRolloutOptions, 'cellTruth'>,
): Promise<{ updates: number; finalLoss: number }> {
  const start = srm.updates;
  let lossSum = 0;
  let lossN = 0;
  await randomRollouts(env, { ...opts, cellTruth: srm.config.cellTruth }, (o, f) => {
    const s = srm.observe([o], [f]);
    lossSum += s.loss * s.updates;
    lossN += s.updates;
  });
  return { updates: srm.updates - start, finalLoss: lossN > 0 ? lossSum / lossN : NaN };
}

/** Held-out examples whose embeddings stay alive until `dispose()`. */
export class SrmExampleSet {
  readonly examples: SrmExample[] = [];
  private readonly store = new EmbeddingStore();

  add(observation: PromptObservation, truth: Float32Array): void {
    const key = this.store.acquire(observation.embedding);
    this.examples.push({
      observation: {
        embedding: this.store.get(key),
        maskProbs: Float32Array.from(observation.maskProbs),
        textVector: observation.textVector,
      },
      cellTruth: Float32Array.from(truth),
    });
  }

  dispose(): void {
    this.examples.length = 0;
    this.store.clear();
  }
}

export async function collectSrmExamples(
  env: Env<PromptObservation, number>,
  opts: RandomRolloutOptions,
): Promise<SrmExampleSet> {
  const set = new SrmExampleSet();
  try {
    await randomRollouts(env, opts, (o, f) => set.add(o, f));
  } catch (err) {
    set.dispose();
    throw err;
  }
  return set;
}

export interface ImagePretrainOptions {
  /** Samples 0..images-1 of the env's data set, each seen in its reset state. */
  images: number;
  /** Adam steps on minibatches drawn from those states. */
  updates: number;
  batchSize?: number;
  onUpdate?: (done: number, stats: SrmUpdateStats) => void;
}

/**
 * Supervised pre-training on ground truth, before RL: the reset states of the first `images`
 * samples (use an env whose P0 is 'none', so no click has shaped the state) and `updates`
 * minibatch steps over them.
 */
export async function pretrainSrmOnImages(
  srm: SemanticRecalibrationModule,
  env: Env<PromptObservation, number>,
  opts: ImagePretrainOptions,
): Promise<SrmUpdateStats> {
  if (!(Number.isInteger(opts.images) && opts.images > 0))
    throw new Error(`images must be a positive integer, got ${opts.images}`);
  const set = new SrmExampleSet();
  try {
    for (let i = 0; i < opts.images; i++) {
      const { observation, info } = await env.reset({ seed: i, options: { index: i } });
      set.add(observation, cellTruthOf(info, srm.config.cellTruth, `sample ${i}`));
    }
    return srm.fit(set.examples, { updates: opts.updates, batchSize: opts.batchSize, onUpdate: opts.onUpdate });
  } finally {
    set.dispose();
  }
}

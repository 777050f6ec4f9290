/**
 * What PPO and DQN share: the env and observation plumbing, the lazily built network (its sizes come
 * from the first observation), seeded randomness, episode statistics, predict, and the checkpoint
 * folder layout.
 *
 * Checkpoint folder (written atomically, see io/atomic-folder.ts):
 *   agent.json            format tag, algorithm, options, network config, embedding grid, counters,
 *                         RNG state, optimizer step, the episodes in flight (returns and lengths so
 *                         far; the env's side is the env's to save)
 *   policy.safetensors    network weights by logical name ("grid0/w", ...), float32
 *   optimizer.safetensors Adam moments ("m/<param>", "v/<param>")
 *   (DQN) target.safetensors, replay.safetensors, replay-embeddings.safetensors
 */
import * as path from 'node:path';
import type { Env, Info } from '../env/types';
import { toVectorEnv } from '../env/vector/to-vector-env';
import type { VectorEnv } from '../env/vector/types';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { TensorRecord } from '../io/tensor-record';
import { Rng, RngState } from '../utils/rng';
import { Callback, CallbackContext, CallbackList, LearningAgent, ProgressBarCallback } from './callbacks';
import { writeFolderAtomic } from '../io/atomic-folder';
import { readJsonFile, writeJsonFile } from '../io/json-file';
import { DEFAULT_NET_CONFIG, NetHead, PromptNet, PromptNetConfig } from './networks/prompt-net';
import type { PromptObservation } from '../env/prompt/observation';
import {
  batchObservations,
  embeddingShape,
  ObservationDims,
  PromptObservationBatch,
  snapshotObservation,
} from './observation';
import { tidyValue } from '../tfjs-ops/tidy-value';
import type { AgentCommonOptions } from './option-checks';

export const CHECKPOINT_FORMAT = 'alignsam-tfjs/agent';
export const CHECKPOINT_VERSION = 1;

/** Architecture choices a user may set; the sizes tied to the env are read from observations. */
export type NetArchitecture = Pick<
  PromptNetConfig,
  'projChannels' | 'embedConvChannels' | 'embedConvMinSize' | 'gridConvChannels' | 'valueHidden' | 'actionLayout'
>;

/** The options every agent takes are written once, as a schema, in option-checks.ts. */
export type { AgentCommonOptions };

export type AnyEnv = VectorEnv<unknown, number> | Env<unknown, number> | Env<unknown, number>[];

export interface AgentRuntimeOptions {
  /** Turns an env observation into a PromptObservation (default: the observation itself). */
  observationAdapter?: (obs: unknown) => PromptObservation;
}

export interface LearnOptions {
  totalTimesteps: number;
  callbacks?: Callback | Callback[];
  /** Draw a progress bar on stderr. */
  progressBar?: boolean;
  /**
   * true (default): counters restart at 0 and the env is reset. false: continue (after load, or a
   * second learn call); totalTimesteps then counts additional steps, as in SB3.
   */
  resetNumTimesteps?: boolean;
}

export interface CheckpointJson<O> {
  format: string;
  formatVersion: number;
  algo: string;
  options: O;
  net: PromptNetConfig;
  embedDims: { embedH: number; embedW: number };
  state: Record<string, unknown> & { numTimesteps: number; rng: RngState };
}

/** The agent's side of the episodes in flight, saved so that a resumed run continues them. */
export interface EpisodeTracking {
  /** Per env: whether its current observation starts an episode. */
  starts: boolean[];
  /** Per env: return and length of its episode so far. */
  returns: number[];
  lengths: number[];
  /** The latest finished episodes (up to 100), oldest first. */
  recentReturns: number[];
  recentLengths: number[];
}

function checkEpisodeTracking(e: EpisodeTracking, file: string): void {
  const field = (k: string) => `${file}: 'state.episodes.${k}'`;
  if (!e || typeof e !== 'object') throw new Error(`${file}: 'state.episodes' must be an object`);
  if (!Array.isArray(e.starts) || !e.starts.every((v) => typeof v === 'boolean'))
    throw new Error(`${field('starts')} must be a list of true/false`);
  for (const k of ['returns', 'lengths', 'recentReturns', 'recentLengths'] as const) {
    if (!Array.isArray(e[k]) || !e[k].every(Number.isFinite))
      throw new Error(`${field(k)} must be a list of finite numbers`);
  }
  if (e.returns.length !== e.starts.length || e.lengths.length !== e.starts.length)
    throw new Error(`${field('returns')} and 'lengths' must have one value per env (${e.starts.length})`);
  if (e.recentLengths.length !== e.recentReturns.length)
    throw new Error(`${field('recentLengths')} must have one value per recent return (${e.recentReturns.length})`);
}

export abstract class BaseAgent<O extends AgentCommonOptions> implements LearningAgent {
  abstract readonly algo: string;
  readonly options: O;
  numTimesteps = 0;
  /** One record of training metrics per iteration (PPO) or log interval (DQN). */
  readonly logs: Array<Record<string, number>> = [];
  protected env: VectorEnv<unknown, number> | null = null;
  protected adapter: (obs: unknown) => PromptObservation;
  protected rng: Rng;
  protected initRng: Rng;
  protected net: PromptNet | null = null;
  protected embedDims: { embedH: number; embedW: number } | null = null;
  protected lastObs: PromptObservation[] | null = null;
  protected lastEpisodeStarts: boolean[] = [];
  protected everReset = false;
  protected totalForRun = 0;
  protected learnStartTime = 0;
  protected learnStartSteps = 0;
  private epReturn: number[] = [];
  private epLength: number[] = [];
  private recentReturns: number[] = [];
  private recentLengths: number[] = [];
  /** The episodes in flight of a loaded checkpoint, until continueEpisodes takes them. */
  private savedEpisodes: EpisodeTracking | null = null;

  protected constructor(options: O, env: AnyEnv | null, runtime: AgentRuntimeOptions) {
    this.options = options;
    this.adapter = runtime.observationAdapter ?? ((o) => o as PromptObservation);
    this.initRng = new Rng(options.seed);
    this.rng = this.initRng.fork();
    if (env) this.setEnv(env);
  }

  protected abstract readonly head: NetHead;
  /** Create networks, optimizer and buffers once the sizes are known. */
  protected abstract buildModel(config: PromptNetConfig, dims: ObservationDims): void;
  /** Actions for a batch (exploration allowed when not deterministic). */
  protected abstract act(batch: PromptObservationBatch, deterministic: boolean): Int32Array;
  protected abstract writeCheckpointFiles(dir: string): Promise<Record<string, unknown>>;

  setEnv(env: AnyEnv): void {
    this.env = toVectorEnv(env, 'same-step', 'the agent');
    // A new env starts from its own reset.
    this.lastObs = null;
  }

  getEnv(): VectorEnv<unknown, number> | null {
    return this.env;
  }

  /** The network (built at the first observation). */
  get policy(): PromptNet {
    if (!this.net)
      throw new Error(
        `${this.algo}: the network is not built yet; it is built from the first observation (learn or predict)`,
      );
    return this.net;
  }

  /** The embedding grid the network was built for. */
  get embeddingDims(): { embedH: number; embedW: number } {
    if (!this.embedDims)
      throw new Error(
        `${this.algo}: the network is not built yet; it is built from the first observation (learn or predict)`,
      );
    return { ...this.embedDims };
  }

  get isBuilt(): boolean {
    return this.net !== null;
  }

  protected netConfigFor(obs: PromptObservation): { config: PromptNetConfig; dims: ObservationDims } {
    const [embedH, embedW, embedChannels] = embeddingShape(obs.embedding, 'first observation');
    const gg = obs.clicksPositive.length;
    const g = Math.round(Math.sqrt(gg));
    if (g * g !== gg) throw new Error(`first observation: clicksPositive has ${gg} values, not a square grid`);
    const nActions = obs.actionMask.length;
    const k = nActions / gg;
    if (k !== 1 && k !== 2) {
      throw new Error(
        `first observation: ${nActions} actions on a ${g}x${g} grid; expected ${gg} (one per cell) or ${2 * gg} (cell and label)`,
      );
    }
    const config: PromptNetConfig = {
      ...DEFAULT_NET_CONFIG,
      ...this.options.net,
      gridSize: g,
      embedChannels,
      logitsPerCell: k as 1 | 2,
      textDim: obs.textVector ? obs.textVector.length : 0,
      labelerScores: obs.labelerScores !== undefined,
      head: this.head,
    };
    return {
      config,
      dims: {
        embedH,
        embedW,
        embedChannels,
        gridSize: g,
        nActions,
        textDim: config.textDim,
        labelerScores: config.labelerScores,
      },
    };
  }

  protected ensureBuilt(obs: PromptObservation): void {
    if (this.net) return;
    const { config, dims } = this.netConfigFor(obs);
    this.embedDims = { embedH: dims.embedH, embedW: dims.embedW };
    this.buildModel(config, dims);
  }

  protected dims(): ObservationDims {
    if (!this.net || !this.embedDims) throw new Error(`${this.algo}: not built`);
    return this.net.dims(this.embedDims.embedH, this.embedDims.embedW);
  }

  protected adaptAll(observations: readonly unknown[]): PromptObservation[] {
    return observations.map((o) => snapshotObservation(this.adapter(o)));
  }

  protected batch(observations: PromptObservation[]): PromptObservationBatch {
    this.ensureBuilt(observations[0]);
    return batchObservations(observations, this.dims());
  }

  /** Actions for env observations: one observation gives a number, an array gives an Int32Array. */
  predict(observation: unknown[], opts?: { deterministic?: boolean }): Promise<Int32Array>;
  predict(observation: unknown, opts?: { deterministic?: boolean }): Promise<number>;
  async predict(observation: unknown, opts: { deterministic?: boolean } = {}): Promise<Int32Array | number> {
    const single = !Array.isArray(observation);
    const list = single ? [observation] : (observation as unknown[]);
    if (list.length === 0) throw new Error(`${this.algo}.predict: no observations`);
    const actions = this.act(this.batch(this.adaptAll(list)), opts.deterministic ?? false);
    return single ? actions[0] : actions;
  }

  recentEpisodeReturns(): number[] {
    return [...this.recentReturns];
  }

  recentEpisodeLengths(): number[] {
    return [...this.recentLengths];
  }

  protected requireEnv(): VectorEnv<unknown, number> {
    if (!this.env) throw new Error(`${this.algo}: no env; pass one to the constructor, to load(), or call setEnv()`);
    return this.env;
  }

  /**
   * Reset the env when there is no current observation; seeded only on the agent's first reset.
   * Returns whether it reset.
   */
  protected async ensureObservations(): Promise<boolean> {
    if (this.lastObs) return false;
    const env = this.requireEnv();
    const r = await env.reset(this.everReset ? {} : { seed: this.options.seed });
    this.everReset = true;
    this.lastObs = this.adaptAll(r.observations);
    this.ensureBuilt(this.lastObs[0]);
    this.lastEpisodeStarts = new Array(env.numEnvs).fill(true);
    this.epReturn = new Array(env.numEnvs).fill(0);
    this.epLength = new Array(env.numEnvs).fill(0);
    return true;
  }

  /** Whether the loaded checkpoint holds the episodes in flight (continueEpisodes can go on with them). */
  get canContinueEpisodes(): boolean {
    return this.savedEpisodes !== null;
  }

  /**
   * Continue the episodes a checkpoint was saved in, instead of resetting the env at the next
   * learn(): `observations` are the env's current ones, the env restored to the checkpoint's state
   * (e.g. SamPromptVectorEnv.setState).
   */
  continueEpisodes(observations: readonly unknown[]): void {
    const env = this.requireEnv();
    const saved = this.savedEpisodes;
    if (!saved)
      throw new Error(
        `${this.algo}.continueEpisodes: the loaded checkpoint holds no episodes in flight (saved by an older version)`,
      );
    if (observations.length !== env.numEnvs || saved.starts.length !== env.numEnvs) {
      throw new Error(
        `${this.algo}.continueEpisodes: the checkpoint tracked ${saved.starts.length} envs; got ${observations.length} observations of ${env.numEnvs} envs`,
      );
    }
    this.lastObs = this.adaptAll(observations);
    this.ensureBuilt(this.lastObs[0]);
    this.lastEpisodeStarts = [...saved.starts];
    this.epReturn = [...saved.returns];
    this.epLength = [...saved.lengths];
    this.everReset = true;
    this.savedEpisodes = null;
  }

  /** Accumulate rewards; record finished episodes. */
  protected trackEpisodes(rewards: ArrayLike<number>, dones: ArrayLike<boolean>): void {
    for (let i = 0; i < rewards.length; i++) {
      this.epReturn[i] += rewards[i];
      this.epLength[i]++;
      if (dones[i]) {
        this.recentReturns.push(this.epReturn[i]);
        this.recentLengths.push(this.epLength[i]);
        if (this.recentReturns.length > 100) {
          this.recentReturns.shift();
          this.recentLengths.shift();
        }
        this.epReturn[i] = 0;
        this.epLength[i] = 0;
      }
    }
  }

  protected setupLearn(opts: LearnOptions): CallbackList {
    if (!(Number.isInteger(opts.totalTimesteps) && opts.totalTimesteps > 0)) {
      throw new Error(`${this.algo}.learn: totalTimesteps must be a positive integer, got ${opts.totalTimesteps}`);
    }
    const reset = opts.resetNumTimesteps ?? true;
    if (reset) {
      this.numTimesteps = 0;
      this.lastObs = null;
    }
    this.totalForRun = reset ? opts.totalTimesteps : opts.totalTimesteps + this.numTimesteps;
    this.learnStartTime = Date.now();
    this.learnStartSteps = this.numTimesteps;
    const list =
      opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? [...opts.callbacks] : [opts.callbacks];
    if (opts.progressBar) list.push(new ProgressBarCallback());
    return new CallbackList(list);
  }

  protected context(infos: Info[] = []): CallbackContext {
    return { agent: this, numTimesteps: this.numTimesteps, totalTimesteps: this.totalForRun, infos };
  }

  /** 1 at the start of the schedule, 0 at its end (see scheduleTimesteps). */
  protected progressRemaining(): number {
    const end = this.options.scheduleTimesteps ?? this.totalForRun;
    return end > 0 ? Math.max(0, 1 - this.numTimesteps / end) : 1;
  }

  protected logIteration(record: Record<string, number>): void {
    const r = this.recentReturns;
    const full: Record<string, number> = {
      timesteps: this.numTimesteps,
      ep_rew_mean: r.length ? r.reduce((a, b) => a + b, 0) / r.length : NaN,
      ep_len_mean: this.recentLengths.length
        ? this.recentLengths.reduce((a, b) => a + b, 0) / this.recentLengths.length
        : NaN,
      fps: (this.numTimesteps - this.learnStartSteps) / Math.max(1e-3, (Date.now() - this.learnStartTime) / 1000),
      ...record,
    };
    this.logs.push(full);
    if (this.options.verbose) {
      const parts = Object.entries(full).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`);
      process.stderr.write(`${this.algo} ${parts.join(' ')}\n`);
    }
  }

  /** Save a checkpoint folder (atomically). */
  async save(dir: string): Promise<void> {
    this.assertBuilt();
    await writeFolderAtomic(dir, (tmp) => this.writeCheckpoint(tmp));
  }

  private assertBuilt(): void {
    if (!this.net || !this.embedDims) {
      throw new Error(
        `${this.algo}.save: nothing to save yet; the network is built from the first observation (learn or predict first)`,
      );
    }
  }

  /**
   * The checkpoint's files, written into the existing folder `dir`: `save` without its atomic
   * rename, for a caller that writes more beside them and renames the whole folder itself.
   */
  async writeCheckpoint(dir: string): Promise<void> {
    this.assertBuilt();
    const net = this.net!;
    await writeSafetensors(path.join(dir, 'policy.safetensors'), net.params.toRecord());
    const extraState = await this.writeCheckpointFiles(dir);
    const episodes: EpisodeTracking = {
      starts: [...this.lastEpisodeStarts],
      returns: [...this.epReturn],
      lengths: [...this.epLength],
      recentReturns: [...this.recentReturns],
      recentLengths: [...this.recentLengths],
    };
    const json: CheckpointJson<O> = {
      format: CHECKPOINT_FORMAT,
      formatVersion: CHECKPOINT_VERSION,
      algo: this.algo,
      options: this.options,
      net: net.config,
      embedDims: this.embedDims!,
      state: {
        numTimesteps: this.numTimesteps,
        rng: this.rng.getState(),
        everReset: this.everReset,
        ...(this.lastObs ? { episodes } : {}),
        ...extraState,
      },
    };
    await writeJsonFile(path.join(dir, 'agent.json'), json);
  }

  /** Read and check agent.json of a checkpoint folder. */
  protected static async readCheckpointJson<O>(dir: string, algo: string): Promise<CheckpointJson<O>> {
    const file = path.join(dir, 'agent.json');
    const json = await readJsonFile<CheckpointJson<O>>(file);
    if (json.format !== CHECKPOINT_FORMAT)
      throw new Error(`${file}: not an agent checkpoint (format ${JSON.stringify(json.format)})`);
    if (json.formatVersion !== CHECKPOINT_VERSION)
      throw new Error(
        `${file}: unsupported formatVersion ${json.formatVersion} (this build reads ${CHECKPOINT_VERSION})`,
      );
    if (json.algo !== algo) throw new Error(`${file}: checkpoint is for ${json.algo}, not ${algo}`);
    if (!json.net || !json.embedDims || !json.state || !Array.isArray(json.state.rng))
      throw new Error(`${file}: missing net, embedDims or state`);
    if (json.state.episodes !== undefined) checkEpisodeTracking(json.state.episodes as EpisodeTracking, file);
    return json;
  }

  protected static async readRecord(dir: string, name: string): Promise<TensorRecord> {
    const file = path.join(dir, name);
    return (await readSafetensors(file)).tensors;
  }

  /** Restore what every agent has from a checkpoint; subclasses restore the rest. */
  protected async restoreCommon(dir: string, json: CheckpointJson<O>): Promise<void> {
    const dims: ObservationDims = {
      embedH: json.embedDims.embedH,
      embedW: json.embedDims.embedW,
      embedChannels: json.net.embedChannels,
      gridSize: json.net.gridSize,
      nActions: json.net.logitsPerCell * json.net.gridSize ** 2,
      textDim: json.net.textDim,
      labelerScores: json.net.labelerScores === true,
    };
    this.embedDims = { ...json.embedDims };
    this.buildModel(json.net, dims);
    this.policy.params.loadRecord(
      await BaseAgent.readRecord(dir, 'policy.safetensors'),
      path.join(dir, 'policy.safetensors'),
    );
    this.numTimesteps = json.state.numTimesteps;
    this.rng.setState(json.state.rng);
    this.everReset = json.state.everReset === true;
    const episodes = json.state.episodes as EpisodeTracking | undefined;
    if (episodes !== undefined) {
      this.recentReturns = [...episodes.recentReturns];
      this.recentLengths = [...episodes.recentLengths];
      this.savedEpisodes = episodes;
    }
  }

  /** Free the networks, optimizer state and buffers. */
  dispose(): void {
    this.net?.dispose();
    this.net = null;
  }

  /** Run a forward pass in a tidy and read the results. */
  protected readForward(
    batch: PromptObservationBatch,
    net: PromptNet = this.policy,
  ): { logits: Float32Array; values: Float32Array | null } {
    return tidyValue(() => {
      const out = net.forward(batch, { useCache: true });
      return {
        logits: out.logits.dataSync() as Float32Array,
        values: out.values ? (out.values.dataSync() as Float32Array) : null,
      };
    });
  }
}

/**
 * The prompting env: an agent clicks cells of a G x G grid over an image, a frozen SAM segments
 * from all clicks so far, and the reward says how good the click was (AlignSAM, CVPR 2024).
 *
 * Episode: a sample from the data set; its embedding from the cache (encoded once, shared by all
 * envs); optional initial prompts P0 (none, the paper's training start of one random positive and
 * one random negative ground-truth point, or the labeler's highest- and lowest-scoring cells as at
 * the paper's evaluation); then T agent clicks, P_t = P_{t-1} + {a_t}, M_t = SAM(x, P_t). There is
 * no stop action: the episode is truncated (not terminated) after T clicks, so learners bootstrap
 * from the final state's value, as the paper does.
 *
 * A step is split in three phases so that a vector env can label and decode every env's click in
 * one batch: `prepareStep` (action -> point and label), SAM decoding, `completeStep` (mask,
 * reward, observation). `step()` runs the three for one env.
 */
import * as tf from '@tensorflow/tfjs';
import { tidyValue } from '../../tfjs-ops/tidy-value';
import type { Sample, SegmentationDataset } from '../../data/types';
import type { EmbeddingCache } from '../../sam/embedding-cache';
import type { ImageEmbedding } from '../../sam/image-embedding';
import type { DecoderOutput } from '../../sam/modeling/mask-decoder';
import { postprocessMasks } from '../../sam/processing/postprocess';
import type { DecodeRequest, SamModel } from '../../sam/modeling/sam-model';
import { applyCoords } from '../../sam/processing/transforms';
import { confusionCounts } from '../../metrics/confusion';
import { diceFromCounts, iouFromCounts } from '../../metrics/segmentation';
import { RewardFunction } from '../../reward/reward-function';
import type { RewardConfig } from '../../reward/config';
import type { RewardBreakdown } from '../../reward/reward-function';
import { Rng } from '../../utils/rng';
import { checkPromptEnvState, type PromptEnvShape, type PromptEnvState } from './prompt-env-state';
import { Discrete } from '../spaces/discrete';
import type { Space } from '../spaces/space';
import type { Env, Info, ResetOptions, ResetResult, RgbImage, StepResult } from '../types';
import { ActionGrid, LabelSource } from './action-grid';
import { type InitialPrompts, type PromptEnvSettings, resolvePromptEnvSettings } from './prompt-env-options';
import type { ClickLabeler } from './labeler';
import { LowResFrame } from './low-res-frame';
import { PromptObservation, promptObservationSpace } from './observation';
import { renderEpisode } from './render';

/**
 * An env's options: its settings (prompt-env-options.ts: grid, horizon, label source, P0, SAM's
 * mask options, the labeler's scores, sample order, seed; defaults there) and what it works on.
 */
export interface SamPromptEnvOptions extends Partial<PromptEnvSettings> {
  dataset: SegmentationDataset;
  /** The embedding cache; its model is the frozen SAM. */
  embeddings: EmbeddingCache;
  /** Labels clicks under labelSource 'recalibration', gives P0 under initialPrompts 'labeler' and the scores of observeLabeler. */
  labeler?: ClickLabeler;
  /** Reward preset or terms. Default 'alignsam' (+1 in the target, -1 outside). */
  reward?: RewardConfig | RewardFunction;
  /** Folder that relative custom reward modules resolve against. */
  rewardBaseDir?: string;
  /** Text vector of a target name (same length for every name), for named tasks. */
  textVector?: (name: string) => Float32Array;
  /** Length of the text vectors (0: the observation carries none). */
  textDim?: number;
}

interface Episode {
  sample: Sample;
  sampleIndex: number;
  embedding: ImageEmbedding;
  frame: LowResFrame;
  gtLow: Uint8Array;
  cellFractions: Float32Array;
  cellCentres: Float32Array;
  pointsXY: number[];
  labels: (0 | 1)[];
  clicked: Uint8Array;
  clicksPositive: Float32Array;
  clicksNegative: Float32Array;
  maskProbsGrid: Float32Array;
  maskLow: Uint8Array;
  maskLowProbs: Float32Array | undefined;
  /** Best mask's low-res logits [L, L], kept for pictures and full-size evaluation. */
  logits: tf.Tensor2D | null;
  t: number;
  textVector: Float32Array | undefined;
  labelerScores: Float32Array | undefined;
}

/** What `prepareStep` decided, consumed by `completeStep`. */
export interface PendingStep {
  cell: number;
  pointXY: [number, number];
  label: 0 | 1;
  request: DecodeRequest;
}

export class SamPromptEnv implements Env<PromptObservation, number> {
  readonly observationSpace: Space<PromptObservation>;
  readonly actionSpace: Discrete;
  readonly grid: ActionGrid;
  readonly horizon: number;
  readonly labelSource: LabelSource;
  readonly initialPrompts: InitialPrompts;
  readonly reward: RewardFunction;
  readonly model: SamModel;
  /** The settings with their defaults filled in. */
  readonly settings: PromptEnvSettings;
  private readonly options: SamPromptEnvOptions;
  private readonly rng: Rng;
  private readonly textCache = new Map<string, Float32Array>();
  private episode: Episode | null = null;
  private sequentialIndex = 0;
  private seeded = false;
  private closed = false;

  constructor(options: SamPromptEnvOptions) {
    const settings = resolvePromptEnvSettings(options);
    this.settings = settings;
    this.options = options;
    this.model = options.embeddings.model;
    this.horizon = settings.horizon;
    this.labelSource = settings.labelSource;
    this.grid = new ActionGrid(settings.gridSize, this.labelSource);
    this.initialPrompts = settings.initialPrompts;
    if (
      (this.labelSource === 'recalibration' || this.initialPrompts === 'labeler' || settings.observeLabeler) &&
      !options.labeler
    ) {
      throw new Error(
        `labelSource '${this.labelSource}' with initialPrompts '${this.initialPrompts}'${settings.observeLabeler ? ' and observeLabeler' : ''} needs a labeler (e.g. the semantic recalibration module); use labelSource 'oracle' or 'agent' without one`,
      );
    }
    if (options.dataset.length === 0) throw new Error(`data set '${options.dataset.name}' is empty`);
    this.reward =
      options.reward instanceof RewardFunction
        ? options.reward
        : new RewardFunction(options.reward ?? 'alignsam', { baseDir: options.rewardBaseDir });
    this.rng = new Rng(settings.seed);
    this.actionSpace = new Discrete(this.grid.numActions);
    this.observationSpace = promptObservationSpace({
      embeddingGrid: this.model.gridSize,
      embeddingChannels: this.model.config.maskDecoder.transformerDim,
      gridSize: this.grid.gridSize,
      numActions: this.grid.numActions,
      textDim: options.textDim ?? 0,
      labelerScores: settings.observeLabeler,
    });
  }

  /**
   * A new env like this one with some options replaced (e.g. ground-truth labels for a reference
   * baseline on the same data, SAM, grid and initial prompts). It shares the embedding cache.
   */
  variant(overrides: Partial<SamPromptEnvOptions>): SamPromptEnv {
    return new SamPromptEnv({ ...this.options, reward: this.reward, ...overrides });
  }

  /**
   * 'deployed' when nothing from the ground truth enters an episode (P0 from the labeler or none,
   * labels from the labeler or the agent); 'assisted' otherwise.
   */
  get protocol(): 'deployed' | 'assisted' {
    return this.initialPrompts === 'ground-truth' || this.labelSource === 'oracle' ? 'assisted' : 'deployed';
  }

  get currentSample(): Sample | null {
    return this.episode?.sample ?? null;
  }

  get labeler(): ClickLabeler | undefined {
    return this.options.labeler;
  }

  async reset(opts: ResetOptions = {}): Promise<ResetResult<PromptObservation>> {
    const request = await this.prepareReset(opts);
    const decoded = request ? this.model.decode([request])[0] : null;
    return this.completeReset(decoded);
  }

  async step(action: number): Promise<StepResult<PromptObservation>> {
    const label =
      this.labelSource === 'recalibration'
        ? (
            await this.options.labeler!.labelClicks([
              { observation: this.observation(), cell: this.grid.decode(action).cell },
            ])
          )[0]
        : undefined;
    const pending = this.prepareStep(action, label);
    const decoded = this.model.decode([pending.request])[0];
    return this.completeStep(pending, decoded);
  }

  /** Phase 1 of reset: load the sample and embedding, choose P0; returns P0's decode request, if any. */
  async prepareReset(opts: ResetOptions = {}): Promise<DecodeRequest | null> {
    this.assertOpen('reset');
    if (opts.seed !== undefined) {
      this.rng.seed(opts.seed);
      this.seeded = true;
    } else if (!this.seeded) {
      this.rng.seed(this.settings.seed);
      this.seeded = true;
    }
    const requested = opts.options?.index;
    const n = this.options.dataset.length;
    let index: number;
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || (requested as number) < 0 || (requested as number) >= n) {
        throw new Error(`reset option 'index' must be an integer in [0, ${n}), got ${requested}`);
      }
      index = requested as number;
    } else if (this.settings.sampleOrder === 'sequential') {
      index = this.sequentialIndex++ % n;
    } else {
      index = this.rng.int(n);
    }
    this.episode = await this.newEpisode(index);
    if (this.settings.observeLabeler)
      this.episode.labelerScores = (await this.options.labeler!.scoreCells([this.observation()]))[0];
    await this.addInitialPrompts();
    return this.episode.pointsXY.length > 0 ? this.decodeRequest() : null;
  }

  /** Episode `index` before any prompt, replacing the current one. */
  private async newEpisode(index: number): Promise<Episode> {
    const sample = await this.options.dataset.get(index);
    if (sample.mask.length !== sample.width * sample.height) {
      throw new Error(
        `sample '${sample.id}': mask has ${sample.mask.length} pixels, image is ${sample.width}x${sample.height}`,
      );
    }
    const embedding = await this.options.embeddings.acquire(sample.image);
    this.endEpisode();
    const frame = new LowResFrame(this.lowResSide, this.model.config.imageEncoder.imgSize, embedding);
    const g2 = this.grid.numCells;
    const e2 = this.model.gridSize * this.model.gridSize;
    return {
      sample,
      sampleIndex: index,
      embedding,
      frame,
      gtLow: frame.sample(sample.mask, sample.width, sample.height),
      cellFractions: this.grid.cellFractions(sample.mask, sample.width, sample.height),
      cellCentres: this.grid.cellCentreTruth(sample.mask, sample.width, sample.height),
      pointsXY: [],
      labels: [],
      clicked: new Uint8Array(g2),
      clicksPositive: new Float32Array(g2),
      clicksNegative: new Float32Array(g2),
      maskProbsGrid: new Float32Array(e2).fill(1),
      maskLow: new Uint8Array(frame.height * frame.width),
      maskLowProbs: undefined,
      logits: null,
      t: 0,
      textVector: this.textVectorOf(sample.targetName),
      labelerScores: undefined,
    };
  }

  /** Side of SAM's low-res logits, L = 4E. */
  private get lowResSide(): number {
    return 4 * this.model.gridSize;
  }

  /** What a saved state must fit to be restored into this env. */
  get stateShape(): PromptEnvShape {
    return {
      datasetLength: this.options.dataset.length,
      horizon: this.horizon,
      numCells: this.grid.numCells,
      lowResSide: this.lowResSide,
      labelerScores: this.settings.observeLabeler,
    };
  }

  /**
   * Everything this env carries to its next step (sample RNG, the episode in flight): restored
   * with setState, the env goes on exactly as this one would.
   */
  getState(): PromptEnvState {
    const ep = this.episode;
    return {
      rng: this.rng.getState(),
      seeded: this.seeded,
      sequentialIndex: this.sequentialIndex,
      episode: ep && {
        sampleIndex: ep.sampleIndex,
        t: ep.t,
        pointsXY: ep.pointsXY.slice(),
        labels: ep.labels.slice(),
        clicked: ep.clicked.slice(),
        clicksPositive: ep.clicksPositive.slice(),
        clicksNegative: ep.clicksNegative.slice(),
        maskLogits: ep.logits ? Float32Array.from(ep.logits.dataSync()) : null,
        labelerScores: ep.labelerScores ? ep.labelerScores.slice() : null,
      },
    };
  }

  /**
   * Continue from a `getState()`: the sample and its embedding are loaded again and the mask is
   * derived from the saved logits as a step derives it. Returns the current observation (null
   * when the state has no episode). A state that does not fit names `where` and the field, before
   * anything changes.
   */
  async setState(state: PromptEnvState, where = 'env state'): Promise<PromptObservation | null> {
    this.assertOpen('setState');
    checkPromptEnvState(state, this.stateShape, where);
    const saved = state.episode;
    if (saved) {
      const ep = await this.newEpisode(saved.sampleIndex);
      this.episode = ep;
      ep.t = saved.t;
      ep.pointsXY = saved.pointsXY.slice();
      ep.labels = saved.labels.slice();
      ep.clicked = saved.clicked.slice();
      ep.clicksPositive = saved.clicksPositive.slice();
      ep.clicksNegative = saved.clicksNegative.slice();
      ep.labelerScores = saved.labelerScores ? saved.labelerScores.slice() : undefined;
      if (saved.maskLogits) {
        const l = this.lowResSide;
        this.absorbLogits(tf.tensor2d(saved.maskLogits, [l, l]));
      }
    } else {
      this.endEpisode();
    }
    this.rng.setState(state.rng);
    this.seeded = state.seeded;
    this.sequentialIndex = state.sequentialIndex;
    return saved ? this.observation() : null;
  }

  /** Phase 2 of reset: absorb P0's decoded mask (or none) and return the first observation. */
  completeReset(decoded: DecoderOutput | null): ResetResult<PromptObservation> {
    this.requireEpisode('completeReset');
    if (decoded) this.absorbMask(decoded);
    return { observation: this.observation(), info: this.info() };
  }

  /** The label request a 'recalibration' step needs for `action` (the vector env batches these). */
  labelRequestFor(action: number): { observation: PromptObservation; cell: number } {
    return { observation: this.observation(), cell: this.grid.decode(action).cell };
  }

  /** Phase 1 of a step: the click's point and label, and the decode request with all prompts so far. */
  prepareStep(action: number, labelFromLabeler?: 0 | 1): PendingStep {
    const ep = this.requireEpisode('step');
    if (ep.t >= this.horizon) throw new Error(`step() after the episode ended (t = ${ep.t} = horizon); call reset()`);
    const { cell, label: actionLabel } = this.grid.decode(action);
    if (ep.clicked[cell])
      throw new Error(`action ${action}: cell ${cell} was already clicked (see observation.actionMask)`);
    const [x, y] = this.grid.cellCenterXY(cell, ep.sample.width, ep.sample.height);
    let label: 0 | 1;
    if (this.labelSource === 'agent') label = actionLabel!;
    else if (this.labelSource === 'oracle') label = ep.cellCentres[cell] !== 0 ? 1 : 0;
    else {
      if (labelFromLabeler !== 0 && labelFromLabeler !== 1)
        throw new Error(
          `labelSource 'recalibration': prepareStep needs the labeler's label (0 or 1), got ${labelFromLabeler}`,
        );
      label = labelFromLabeler;
    }
    ep.pointsXY.push(x, y);
    ep.labels.push(label);
    ep.clicked[cell] = 1;
    (label === 1 ? ep.clicksPositive : ep.clicksNegative)[cell] = 1;
    return { cell, pointXY: [x, y], label, request: this.decodeRequest() };
  }

  /** Phase 3 of a step: the new mask, reward and observation. */
  completeStep(pending: PendingStep, decoded: DecoderOutput): StepResult<PromptObservation> {
    const ep = this.requireEpisode('step');
    const prevMask = ep.maskLow;
    const prevProbs = ep.maskLowProbs;
    this.absorbMask(decoded);
    const [px, py] = pending.pointXY;
    const pointLow = ep.frame.toLowRes(px, py);
    const earlier = ep.labels.length - 1;
    const breakdown: RewardBreakdown = this.reward.compute({
      height: ep.frame.height,
      width: ep.frame.width,
      gt: ep.gtLow,
      prevMask,
      mask: ep.maskLow,
      prevMaskProbs: prevProbs,
      maskProbs: ep.maskLowProbs,
      pointXY: pointLow,
      pointNorm: [px / ep.sample.width, py / ep.sample.height],
      label: pending.label,
      pointInGt: ep.cellCentres[pending.cell] !== 0,
      step: ep.t,
      horizon: this.horizon,
      isLastStep: ep.t === this.horizon - 1,
      earlierPointsNorm: Array.from(
        { length: earlier },
        (_, i) => [ep.pointsXY[2 * i] / ep.sample.width, ep.pointsXY[2 * i + 1] / ep.sample.height] as const,
      ),
      earlierLabels: ep.labels.slice(0, earlier),
      targetName: ep.sample.targetName ?? undefined,
    });
    ep.t++;
    const info = this.info();
    info.reward_terms = breakdown.values;
    info.label = pending.label;
    info.cell = pending.cell;
    return {
      observation: this.observation(),
      reward: breakdown.total,
      terminated: false,
      truncated: ep.t >= this.horizon,
      info,
    };
  }

  /** The current observation (fresh arrays, safe to keep). */
  observation(): PromptObservation {
    const ep = this.requireEpisode('observation');
    return {
      embedding: { key: ep.embedding.key, tensor: ep.embedding.embedding },
      maskProbs: ep.maskProbsGrid.slice(),
      clicksPositive: ep.clicksPositive.slice(),
      clicksNegative: ep.clicksNegative.slice(),
      stepFraction: ep.t / this.horizon,
      textVector: ep.textVector,
      ...(ep.labelerScores ? { labelerScores: ep.labelerScores.slice() } : {}),
      actionMask: this.grid.actionMask(ep.clicked),
    };
  }

  /** The current mask at the original image size (binary), for evaluation and pictures. */
  fullResolutionMask(): Uint8Array {
    const ep = this.requireEpisode('fullResolutionMask');
    const { width, height } = ep.sample;
    if (!ep.logits) return new Uint8Array(width * height);
    return tidyValue(() => {
      const full = postprocessMasks(
        ep.logits!.expandDims(0) as tf.Tensor3D,
        ep.embedding.inputSize,
        ep.embedding.originalSize,
        this.model.config.imageEncoder.imgSize,
      );
      return full.greater(this.model.config.maskThreshold).dataSync() as Uint8Array;
    });
  }

  async render(): Promise<RgbImage | null> {
    if (!this.episode) return null;
    const ep = this.episode;
    return renderEpisode(ep.sample, this.fullResolutionMask(), ep.pointsXY, ep.labels);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.endEpisode();
    this.closed = true;
  }

  private info(): Info {
    const ep = this.episode!;
    const counts = confusionCounts(ep.maskLow, ep.gtLow);
    return {
      iou: iouFromCounts(counts),
      dice: diceFromCounts(counts),
      step: ep.t,
      points: ep.pointsXY.slice(),
      labels: ep.labels.slice(),
      sample_id: ep.sample.id,
      sample_index: ep.sampleIndex,
      target_name: ep.sample.targetName,
      cell_fractions: ep.cellFractions,
      cell_centres: ep.cellCentres,
    };
  }

  private decodeRequest(): DecodeRequest {
    const ep = this.episode!;
    const multimask = this.settings.multimaskOutput;
    return {
      embedding: ep.embedding,
      prompt: {
        pointsXY: applyCoords(ep.pointsXY, ep.embedding.originalSize, this.model.config.imageEncoder.imgSize),
        pointLabels: Int32Array.from(ep.labels),
      },
      maskInput: this.settings.maskInput ? ep.logits : null,
      multimaskOutput: multimask === 'single-point' ? ep.labels.length === 1 : multimask,
    };
  }

  /** Take SAM's output for the current prompts: the mask (low-res, valid region) and its probabilities on the embedding grid. */
  private absorbMask(decoded: DecoderOutput): void {
    try {
      let best = 0;
      if (decoded.iouPredictions.shape[0] > 1) {
        const iou = decoded.iouPredictions.dataSync();
        for (let k = 1; k < iou.length; k++) if (iou[k] > iou[best]) best = k;
      }
      const logits = tf.tidy(() => {
        const l = decoded.lowResLogits.shape[1];
        return decoded.lowResLogits.slice([best, 0, 0], [1, l, l]).reshape([l, l]) as tf.Tensor2D;
      });
      this.absorbLogits(logits);
    } finally {
      decoded.lowResLogits.dispose();
      decoded.iouPredictions.dispose();
    }
  }

  /** Make `logits` [L, L] the current mask (the episode takes ownership). */
  private absorbLogits(logits: tf.Tensor2D): void {
    const ep = this.episode!;
    const e = this.model.gridSize;
    const { height: h, width: w } = ep.frame;
    const [gridProbs, validProbs] = tidyValue(() => {
      const probs = tf.sigmoid(logits);
      const pooled = tf.avgPool(probs.expandDims(0).expandDims(3) as tf.Tensor4D, 4, 4, 'valid').reshape([e * e]);
      return [pooled.dataSync() as Float32Array, probs.slice([0, 0], [h, w]).dataSync() as Float32Array];
    });
    ep.logits?.dispose();
    ep.logits = logits;
    ep.maskProbsGrid = Float32Array.from(gridProbs);
    ep.maskLowProbs = Float32Array.from(validProbs);
    // sigmoid(l) > 0.5 exactly when l > 0: the reference's mask threshold. A plain loop: a
    // TypedArray.from with a mapping function cost ~15 ms per step here (49k pixels).
    const maskLow = new Uint8Array(validProbs.length);
    for (let i = 0; i < validProbs.length; i++) maskLow[i] = validProbs[i] > 0.5 ? 1 : 0;
    ep.maskLow = maskLow;
  }

  private async addInitialPrompts(): Promise<void> {
    const ep = this.episode!;
    if (this.initialPrompts === 'ground-truth') {
      const { mask, width, height } = ep.sample;
      const pick = (want: number): number => {
        let count = 0;
        for (let i = 0; i < mask.length; i++) if ((mask[i] ? 1 : 0) === want) count++;
        if (count === 0) return -1;
        let k = this.rng.int(count);
        for (let i = 0; i < mask.length; i++) if ((mask[i] ? 1 : 0) === want && k-- === 0) return i;
        return -1;
      };
      for (const want of [1, 0] as const) {
        const i = pick(want);
        if (i < 0) continue;
        const x = (i % width) + 0.5;
        const y = Math.floor(i / width) + 0.5;
        ep.pointsXY.push(x, y);
        ep.labels.push(want);
        // P0 is part of the clicks so far (the maps show it) but its cell stays clickable.
        (want === 1 ? ep.clicksPositive : ep.clicksNegative)[this.grid.cellOf(x, y, width, height)] = 1;
      }
    } else if (this.initialPrompts === 'labeler') {
      const scores = ep.labelerScores ?? (await this.options.labeler!.scoreCells([this.observation()]))[0];
      let hi = 0;
      let lo = 0;
      for (let c = 1; c < scores.length; c++) {
        if (scores[c] > scores[hi]) hi = c;
        if (scores[c] < scores[lo]) lo = c;
      }
      for (const [cell, label] of [
        [hi, 1],
        [lo, 0],
      ] as const) {
        const [x, y] = this.grid.cellCenterXY(cell, ep.sample.width, ep.sample.height);
        ep.pointsXY.push(x, y);
        ep.labels.push(label);
        ep.clicked[cell] = 1;
        (label === 1 ? ep.clicksPositive : ep.clicksNegative)[cell] = 1;
      }
    }
  }

  private textVectorOf(name: string | null): Float32Array | undefined {
    const dim = this.options.textDim ?? 0;
    if (dim === 0) return undefined;
    if (!this.options.textVector) throw new Error('textDim > 0 needs a textVector function');
    const key = name ?? '';
    let v = this.textCache.get(key);
    if (!v) {
      v = this.options.textVector(key);
      if (!(v instanceof Float32Array) || v.length !== dim)
        throw new Error(`text vector of '${key}' must be a Float32Array of length ${dim}`);
      this.textCache.set(key, v);
    }
    return v;
  }

  private endEpisode(): void {
    if (!this.episode) return;
    this.episode.logits?.dispose();
    this.options.embeddings.release(this.episode.embedding);
    this.episode = null;
  }

  private requireEpisode(what: string): Episode {
    this.assertOpen(what);
    if (!this.episode) throw new Error(`${what}: call reset() first`);
    return this.episode;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new Error(`${what}() after close()`);
  }
}

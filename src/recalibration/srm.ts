/**
 * The Semantic Recalibration Module (AlignSAM): decides whether a click the policy placed is
 * positive or negative. It predicts a foreground probability for every cell of the action grid;
 * the clicked cell's probability, thresholded (0.5 by default), is the label. At evaluation its
 * highest- and lowest-scoring cells give the initial prompts P0 (the env's `initialPrompts:
 * 'labeler'`).
 *
 * Training is online, as in the paper: after each env step the trainer calls `observe(...)` with
 * the step's observations and the ground truth on the grid (`info.cell_fractions`), which stores
 * them in a small replay of recent states and runs q gradient updates (q = `updatesPerStep`).
 * `withSrmTraining` (srm-training.ts) does this for any vector env; `pretrainSrm` trains it on
 * ground truth before RL.
 *
 * This file uses tfjs only (no fs): it runs wherever the exported policy runs. Checkpoint folders
 * are in srm-io.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam, clipByGlobalNorm } from '../nn/adam';
import type { ClickLabeler, ClickLabelRequest } from '../env/prompt/labeler';
import type { EmbeddingRef } from '../env/prompt/observation';
import type { TensorRecord } from '../io/tensor-record';
import { assertSameTextEncoder, type TextEncoderIdentity } from '../text/text-encoder';
import { Rng, type RngState } from '../utils/rng';
import { cellTargets, diceBceLoss } from './losses';
import { resolveSrmConfig, validateSrmConfig, withSavedState, type SrmConfig, type SrmConfigInput } from './srm-config';
import { SrmNet, type SrmInputBatch } from './srm-net';
import { SrmReplay, type SrmReplayEntry, type SrmReplayState } from './srm-replay';
import type { SrmExample } from './evaluate-srm';

/** The part of an observation the SRM reads (a PromptObservation has all of it). */
export interface SrmObservation {
  embedding: EmbeddingRef;
  /** [He*We] previous mask probabilities on the embedding grid. */
  maskProbs: Float32Array;
  /** The target name's vector (explicit branch). */
  textVector?: Float32Array;
}

export interface SrmUpdateStats {
  /** Mean over the updates of this call. */
  loss: number;
  bce: number;
  dice: number;
  updates: number;
}

/** Weights and config, enough to run the SRM (an export). */
export interface SerializedSrm {
  format: 'alignsam-srm';
  formatVersion: 1;
  config: SrmConfig;
  weights: TensorRecord;
}

/** Training state beyond the weights (a checkpoint). */
export interface SrmTrainingState {
  optimizer: TensorRecord;
  optimizerStep: number;
  updates: number;
  rng: RngState;
}

/** Observations per forward pass when scoring (bounds peak memory). */
const SCORE_CHUNK = 32;

export class SemanticRecalibrationModule implements ClickLabeler {
  readonly config: SrmConfig;
  readonly net: SrmNet;
  /** Created on first use: an SRM that only labels (an export) needs no optimizer state. */
  private optimizerOrNull: Adam | null = null;
  private readonly rng: Rng;
  private readonly replay: SrmReplay;
  /** Gradient updates applied so far. */
  updates = 0;
  /** Stats of the latest `update` call. */
  lastStats: SrmUpdateStats | null = null;

  constructor(config: SrmConfigInput | SrmConfig) {
    this.config = resolveSrmConfig(config);
    this.net = new SrmNet(this.config);
    // A stream of its own, so sampling never shares state with weight init.
    this.rng = new Rng(this.config.seed ^ 0x5a17);
    this.replay = new SrmReplay(this.config.replayCapacity);
  }

  private get optimizer(): Adam {
    if (!this.optimizerOrNull) this.optimizerOrNull = new Adam(this.net.params);
    return this.optimizerOrNull;
  }

  get replaySize(): number {
    return this.replay.size;
  }

  /** Errors when text vectors from `encoder` are about to be fed to an SRM trained with another one. */
  checkTextEncoder(encoder: TextEncoderIdentity | null, context = 'semantic recalibration module'): void {
    if (this.config.branch === 'implicit') return;
    assertSameTextEncoder(this.config.textEncoder, encoder, context);
  }

  private batchOf(observations: readonly SrmObservation[]): SrmInputBatch {
    const b = observations.length;
    const e2 = observations[0].maskProbs.length;
    const maskProbs = new Float32Array(b * e2);
    const dim = this.config.textDim;
    const textVectors = this.config.branch === 'explicit' ? new Float32Array(b * dim) : null;
    observations.forEach((o, i) => {
      if (!o || !o.embedding || !o.maskProbs) throw new Error(`SRM: observation ${i} lacks embedding or maskProbs`);
      if (o.maskProbs.length !== e2)
        throw new Error(`SRM: observation ${i} has ${o.maskProbs.length} mask values, observation 0 has ${e2}`);
      maskProbs.set(o.maskProbs, i * e2);
      if (textVectors) {
        if (!o.textVector || o.textVector.length !== dim) {
          throw new Error(
            `SRM (explicit): observation ${i} needs a text vector of length ${dim}, got ${o.textVector ? o.textVector.length : 'none'} (is the env's textDim set?)`,
          );
        }
        textVectors.set(o.textVector, i * dim);
      }
    });
    return { size: b, embeddings: observations.map((o) => o.embedding), maskProbs, textVectors };
  }

  /** Foreground probabilities of every cell, [G*G] per observation. */
  async scoreCells(observations: readonly SrmObservation[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const g2 = this.config.gridSize ** 2;
    for (let start = 0; start < observations.length; start += SCORE_CHUNK) {
      const chunk = observations.slice(start, start + SCORE_CHUNK);
      const probs = tf.tidy(() => tf.sigmoid(this.net.forward(this.batchOf(chunk), { useCache: true })));
      const flat = (await probs.data()) as Float32Array;
      probs.dispose();
      for (let i = 0; i < chunk.length; i++) out.push(flat.slice(i * g2, (i + 1) * g2));
    }
    return out;
  }

  /** Labels for a batch of clicks: 1 when the clicked cell's probability >= threshold. */
  async labelClicks(requests: readonly ClickLabelRequest[]): Promise<(0 | 1)[]> {
    if (requests.length === 0) return [];
    const g2 = this.config.gridSize ** 2;
    requests.forEach((r, i) => {
      if (!(Number.isInteger(r.cell) && r.cell >= 0 && r.cell < g2))
        throw new Error(`SRM: request ${i} clicks cell ${r.cell}, outside [0, ${g2})`);
    });
    const scores = await this.scoreCells(requests.map((r) => r.observation));
    return requests.map((r, i) => (scores[i][r.cell] >= this.config.threshold ? 1 : 0));
  }

  /**
   * Store observations with their ground truth on the grid, values in [0, 1]: the env's
   * `info.cell_fractions` or `info.cell_centres`, as `config.cellTruth` says (`cellTruthOf`).
   */
  record(observations: readonly SrmObservation[], truths: readonly ArrayLike<number>[]): void {
    if (observations.length !== truths.length)
      throw new Error(`SRM.record: ${observations.length} observations but ${truths.length} ground-truth arrays`);
    const g2 = this.config.gridSize ** 2;
    observations.forEach((o, i) => {
      const f = truths[i];
      if (!f || f.length !== g2)
        throw new Error(`SRM.record: ground truth ${i} has ${f?.length} values, expected G*G = ${g2}`);
      if (this.config.branch === 'explicit' && (!o.textVector || o.textVector.length !== this.config.textDim)) {
        throw new Error(`SRM.record (explicit): observation ${i} needs a text vector of length ${this.config.textDim}`);
      }
      this.replay.add(
        o.embedding,
        o.maskProbs,
        this.config.branch === 'explicit' ? o.textVector! : null,
        cellTargets(f, this.config.targetMode),
      );
    });
  }

  /** `record`, then `updatesPerStep` updates: what a trainer calls after each env step. */
  observe(observations: readonly SrmObservation[], truths: readonly ArrayLike<number>[]): SrmUpdateStats {
    this.record(observations, truths);
    return this.update();
  }

  /** `iterations` gradient updates on minibatches drawn from the replay. */
  update(iterations = this.config.updatesPerStep): SrmUpdateStats {
    if (!(Number.isInteger(iterations) && iterations >= 0))
      throw new Error(`SRM.update: iterations must be an integer >= 0, got ${iterations}`);
    let loss = 0;
    let bce = 0;
    let dice = 0;
    for (let k = 0; k < iterations; k++) {
      const entries = this.replay.sample(this.config.batchSize, this.rng);
      const terms = this.replayStep(entries);
      loss += terms[0];
      bce += terms[1];
      dice += terms[2];
    }
    const n = Math.max(1, iterations);
    this.lastStats = { loss: loss / n, bce: bce / n, dice: dice / n, updates: iterations };
    return this.lastStats;
  }

  /**
   * `updates` Adam steps on minibatches drawn (with replacement) from a fixed set of examples
   * with their ground truth on the grid: supervised pre-training, as the paper trains its SRM on
   * a few labelled images per task. The replay is left as it was.
   */
  fit(
    examples: readonly SrmExample[],
    opts: { updates: number; batchSize?: number; onUpdate?: (done: number, stats: SrmUpdateStats) => void },
  ): SrmUpdateStats {
    if (examples.length === 0) throw new Error('SRM.fit: no examples');
    if (!(Number.isInteger(opts.updates) && opts.updates >= 0))
      throw new Error(`SRM.fit: updates must be an integer >= 0, got ${opts.updates}`);
    const batchSize = opts.batchSize ?? this.config.batchSize;
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new Error(`SRM.fit: batchSize must be a positive integer, got ${batchSize}`);
    const g2 = this.config.gridSize ** 2;
    const targets = examples.map((e, i) => {
      if (!e.cellTruth || e.cellTruth.length !== g2)
        throw new Error(`SRM.fit: example ${i} has ${e.cellTruth?.length} ground-truth values, expected G*G = ${g2}`);
      return cellTargets(e.cellTruth, this.config.targetMode);
    });
    let sum = [0, 0, 0];
    for (let k = 0; k < opts.updates; k++) {
      const picks = Array.from({ length: batchSize }, () => this.rng.int(examples.length));
      const t = this.trainStep(
        picks.map((i) => examples[i].observation),
        picks.map((i) => targets[i]),
      );
      sum = sum.map((v, j) => v + t[j]);
      if (opts.onUpdate) opts.onUpdate(k + 1, { loss: t[0], bce: t[1], dice: t[2], updates: k + 1 });
    }
    const n = Math.max(1, opts.updates);
    this.lastStats = { loss: sum[0] / n, bce: sum[1] / n, dice: sum[2] / n, updates: opts.updates };
    return this.lastStats;
  }

  private replayStep(entries: readonly SrmReplayEntry[]): [number, number, number] {
    return this.trainStep(
      entries.map((e) => ({
        embedding: this.replay.embedding(e.key),
        maskProbs: e.maskProbs,
        textVector: e.textVector ?? undefined,
      })),
      entries.map((e) => e.targets),
    );
  }

  /** One Adam step on a given minibatch; returns [total, bce, dice]. */
  private trainStep(
    observations: readonly SrmObservation[],
    cellTargetsOf: readonly Float32Array[],
  ): [number, number, number] {
    const batch = this.batchOf(observations);
    const g2 = this.config.gridSize ** 2;
    const targets = new Float32Array(observations.length * g2);
    cellTargetsOf.forEach((t, i) => targets.set(t, i * g2));
    const params = this.net.params;
    let parts: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const logits = this.net.forward(batch);
      const t = diceBceLoss(
        logits,
        tf.tensor2d(targets, [observations.length, g2]),
        this.config.bceWeight,
        this.config.diceWeight,
      );
      parts = tf.keep(tf.stack([t.bce, t.dice]));
      return t.total;
    }, params.variables());
    try {
      tf.tidy(() => {
        let named = new Map<string, tf.Tensor>();
        for (const [tfName, g] of Object.entries(grads)) named.set(params.logicalName(tfName), g);
        if (this.config.maxGradNorm > 0) named = clipByGlobalNorm(named, this.config.maxGradNorm).grads;
        this.optimizer.apply(named, this.config.learningRate);
      });
      this.updates++;
      const [b, d] = (parts as unknown as tf.Tensor).dataSync();
      return [value.dataSync()[0], b, d];
    } finally {
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      (parts as tf.Tensor | null)?.dispose();
    }
  }

  /** Weights and config (for exports; no optimizer state). */
  serialize(): SerializedSrm {
    return {
      format: 'alignsam-srm',
      formatVersion: 1,
      config: { ...this.config },
      weights: this.net.params.toRecord(),
    };
  }

  /** Builds an SRM from `serialize()`'s output; errors name `source` and the field or tensor. */
  static deserialize(s: SerializedSrm, source = 'serialized SRM'): SemanticRecalibrationModule {
    if (!s || s.format !== 'alignsam-srm')
      throw new Error(`${source}: not a serialized SRM (format ${JSON.stringify(s?.format)})`);
    if (s.formatVersion !== 1)
      throw new Error(`${source}: unsupported formatVersion ${s.formatVersion} (this build reads 1)`);
    const config = withSavedState(s.config);
    validateSrmConfig(config, `${source}: config`);
    const srm = new SemanticRecalibrationModule(config);
    try {
      srm.net.params.loadRecord(s.weights, source);
    } catch (err) {
      srm.dispose();
      throw err;
    }
    return srm;
  }

  trainingState(): SrmTrainingState {
    return {
      optimizer: this.optimizer.toRecord(),
      optimizerStep: this.optimizer.step,
      updates: this.updates,
      rng: this.rng.getState(),
    };
  }

  restoreTrainingState(state: SrmTrainingState, source = 'SRM training state'): void {
    if (!(Number.isInteger(state.updates) && state.updates >= 0))
      throw new Error(`${source}: 'updates' must be an integer >= 0, got ${state.updates}`);
    if (!Array.isArray(state.rng) || state.rng.length !== 4) throw new Error(`${source}: 'rng' must be 4 integers`);
    this.optimizer.loadRecord(state.optimizer, state.optimizerStep, source);
    this.updates = state.updates;
    this.rng.setState(state.rng);
  }

  /** The replay of recent states, for a checkpoint that resumes exactly (see SrmReplay.toRecord). */
  replayRecord(): { record: TensorRecord; state: SrmReplayState } {
    return this.replay.toRecord();
  }

  restoreReplay(record: TensorRecord, state: SrmReplayState, source = 'SRM replay'): void {
    this.replay.loadRecord(record, state, source);
  }

  /** Forget the replay (e.g. after loading a checkpoint for another data set). */
  clearReplay(): void {
    this.replay.clear();
  }

  dispose(): void {
    this.replay.clear();
    this.optimizerOrNull?.dispose();
    this.optimizerOrNull = null;
    this.net.dispose();
  }
}

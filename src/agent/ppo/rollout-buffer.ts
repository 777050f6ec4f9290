/**
 * PPO's on-policy buffer over nSteps x nEnvs transitions (step-major: index = step * nEnvs + env),
 * after Stable-Baselines3's RolloutBuffer. Observations are stored by reference (embedding keys);
 * the buffer holds the embeddings it names until `reset`.
 */
import { Rng } from '../../utils/rng';
import { EmbeddingStore } from '../../env/prompt/embedding-store';
import type { PromptObservation } from '../../env/prompt/observation';
import type { ObservationDims, PromptObservationBatch } from '../observation';
import { ObservationTable } from '../observation-table';
import { computeGae } from './gae';

export interface RolloutMinibatch {
  indices: Int32Array;
  observations: PromptObservationBatch;
  actions: Int32Array;
  oldLogProbs: Float32Array;
  oldValues: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

export class RolloutBuffer {
  readonly size: number;
  readonly observations: ObservationTable;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly values: Float32Array;
  readonly logProbs: Float32Array;
  readonly episodeStarts: Uint8Array;
  advantages: Float32Array;
  returns: Float32Array;
  private pos = 0;
  private computed = false;
  private awaitingRewards = false;

  constructor(
    readonly nSteps: number,
    readonly nEnvs: number,
    dims: ObservationDims,
    store: EmbeddingStore = new EmbeddingStore(),
  ) {
    this.size = nSteps * nEnvs;
    this.observations = new ObservationTable(this.size, dims, store);
    this.actions = new Int32Array(this.size);
    this.rewards = new Float32Array(this.size);
    this.values = new Float32Array(this.size);
    this.logProbs = new Float32Array(this.size);
    this.episodeStarts = new Uint8Array(this.size);
    this.advantages = new Float32Array(this.size);
    this.returns = new Float32Array(this.size);
  }

  /** Steps added so far. */
  get stepsAdded(): number {
    return this.pos;
  }

  get full(): boolean {
    return this.pos === this.nSteps;
  }

  /**
   * Add one vector step before the envs step (so that an env reusing its observation arrays cannot
   * alter what was stored): per env the observation acted on, whether it starts an episode, the
   * action, the value estimate and the action's log-probability. Rewards follow via `setRewards`.
   */
  add(
    observations: readonly PromptObservation[],
    episodeStarts: ArrayLike<boolean | number>,
    actions: ArrayLike<number>,
    values: ArrayLike<number>,
    logProbs: ArrayLike<number>,
  ): void {
    if (this.full) throw new Error(`RolloutBuffer: full (${this.nSteps} steps); call reset() after training`);
    if (this.awaitingRewards)
      throw new Error('RolloutBuffer.add: the previous step has no rewards yet (call setRewards)');
    const n = this.nEnvs;
    for (const [name, arr] of [
      ['observations', observations],
      ['actions', actions],
      ['episodeStarts', episodeStarts],
      ['values', values],
      ['logProbs', logProbs],
    ] as const) {
      if (arr.length !== n)
        throw new Error(`RolloutBuffer.add: '${name}' has ${arr.length} entries, expected nEnvs = ${n}`);
    }
    for (let e = 0; e < n; e++) {
      const i = this.pos * n + e;
      this.observations.set(i, observations[e]);
      this.actions[i] = actions[e];
      this.episodeStarts[i] = episodeStarts[e] ? 1 : 0;
      this.values[i] = values[e];
      this.logProbs[i] = logProbs[e];
    }
    this.awaitingRewards = true;
  }

  /** Rewards of the step added last (after any truncation bootstrap). */
  setRewards(rewards: ArrayLike<number>): void {
    if (!this.awaitingRewards) throw new Error('RolloutBuffer.setRewards: no step is waiting for rewards');
    if (rewards.length !== this.nEnvs)
      throw new Error(`RolloutBuffer.setRewards: ${rewards.length} rewards for ${this.nEnvs} envs`);
    for (let e = 0; e < this.nEnvs; e++) this.rewards[this.pos * this.nEnvs + e] = rewards[e];
    this.awaitingRewards = false;
    this.pos++;
  }

  computeReturnsAndAdvantage(
    lastValues: ArrayLike<number>,
    lastDones: ArrayLike<boolean | number>,
    gamma: number,
    gaeLambda: number,
  ): void {
    if (!this.full) throw new Error(`RolloutBuffer: only ${this.pos} of ${this.nSteps} steps collected`);
    const r = computeGae({
      rewards: this.rewards,
      values: this.values,
      episodeStarts: this.episodeStarts,
      lastValues,
      lastDones,
      nSteps: this.nSteps,
      nEnvs: this.nEnvs,
      gamma,
      gaeLambda,
    });
    this.advantages = r.advantages;
    this.returns = r.returns;
    this.computed = true;
  }

  /** Shuffled minibatches of `batchSize` (the last may be smaller), as SB3 yields them. */
  *minibatches(batchSize: number, rng: Rng): Generator<RolloutMinibatch> {
    if (!this.computed) throw new Error('RolloutBuffer: computeReturnsAndAdvantage must run before sampling');
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new Error(`RolloutBuffer: batchSize must be a positive integer, got ${batchSize}`);
    const order = rng.shuffle(Array.from({ length: this.size }, (_, i) => i));
    for (let start = 0; start < this.size; start += batchSize) {
      yield this.get(Int32Array.from(order.slice(start, start + batchSize)));
    }
  }

  get(indices: Int32Array): RolloutMinibatch {
    const pick = (src: Float32Array): Float32Array => Float32Array.from(indices, (i) => src[i]);
    return {
      indices,
      observations: this.observations.gather(indices),
      actions: Int32Array.from(indices, (i) => this.actions[i]),
      oldLogProbs: pick(this.logProbs),
      oldValues: pick(this.values),
      advantages: pick(this.advantages),
      returns: pick(this.returns),
    };
  }

  /** Empty the buffer and release its embeddings. */
  reset(): void {
    this.observations.clear();
    this.pos = 0;
    this.computed = false;
    this.awaitingRewards = false;
  }
}

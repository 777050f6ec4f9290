/**
 * DQN's circular replay buffer. A transition is (s, a, R, s', done, discount): R is the (n-step)
 * return, s' the observation n steps later (the episode's final observation when it ended earlier),
 * done whether the episode terminated (a truncation is not terminal, so s' is bootstrapped, as SB3's
 * handle_timeout_termination), and discount = gamma^m for the m steps actually taken.
 *
 * Observations are stored by reference: each slot keeps the embedding key; one EmbeddingStore
 * holds every embedding some slot still names and frees it when the last slot is overwritten.
 * The action masks of s' are stored, so target computation can take a masked max/argmax.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorRecord } from '../../io/tensor-record';
import { Rng } from '../../utils/rng';
import { EmbeddingStore } from '../../env/prompt/embedding-store';
import type { PromptObservation } from '../../env/prompt/observation';
import type { ObservationDims, PromptObservationBatch } from '../observation';
import { ObservationTable } from '../observation-table';

export interface ReplaySample {
  indices: Int32Array;
  observations: PromptObservationBatch;
  nextObservations: PromptObservationBatch;
  actions: Int32Array;
  rewards: Float32Array;
  dones: Uint8Array;
  discounts: Float32Array;
}

export interface ReplayState {
  pos: number;
  full: boolean;
  obsKeys: (string | null)[];
  nextKeys: (string | null)[];
  embeddingKeys: string[];
}

export class ReplayBuffer {
  readonly store = new EmbeddingStore();
  readonly observations: ObservationTable;
  readonly nextObservations: ObservationTable;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly dones: Uint8Array;
  readonly discounts: Float32Array;
  private pos = 0;
  private isFull = false;

  constructor(
    readonly capacity: number,
    readonly dims: ObservationDims,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new Error(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    this.observations = new ObservationTable(capacity, dims, this.store);
    this.nextObservations = new ObservationTable(capacity, dims, this.store);
    this.actions = new Int32Array(capacity);
    this.rewards = new Float32Array(capacity);
    this.dones = new Uint8Array(capacity);
    this.discounts = new Float32Array(capacity);
  }

  get size(): number {
    return this.isFull ? this.capacity : this.pos;
  }

  add(
    obs: PromptObservation,
    action: number,
    reward: number,
    nextObs: PromptObservation,
    terminated: boolean,
    discount: number,
  ): void {
    if (!(Number.isInteger(action) && action >= 0 && action < this.dims.nActions)) {
      throw new Error(`ReplayBuffer.add: action ${action} outside [0, ${this.dims.nActions})`);
    }
    if (!Number.isFinite(reward)) throw new Error(`ReplayBuffer.add: reward must be finite, got ${reward}`);
    const i = this.pos;
    this.observations.set(i, obs);
    this.nextObservations.set(i, nextObs);
    this.actions[i] = action;
    this.rewards[i] = reward;
    this.dones[i] = terminated ? 1 : 0;
    this.discounts[i] = discount;
    this.pos = (this.pos + 1) % this.capacity;
    if (this.pos === 0) this.isFull = true;
  }

  /** Uniform sample with replacement (SB3's rule). */
  sample(batchSize: number, rng: Rng): ReplaySample {
    const n = this.size;
    if (n === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    const idx = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) idx[i] = rng.int(n);
    return this.get(idx);
  }

  get(indices: Int32Array): ReplaySample {
    return {
      indices,
      observations: this.observations.gather(indices),
      nextObservations: this.nextObservations.gather(indices),
      actions: Int32Array.from(indices, (i) => this.actions[i]),
      rewards: Float32Array.from(indices, (i) => this.rewards[i]),
      dones: Uint8Array.from(indices, (i) => this.dones[i]),
      discounts: Float32Array.from(indices, (i) => this.discounts[i]),
    };
  }

  /** Arrays and embeddings as one record, plus the JSON state that names the keys. */
  toRecord(): { record: TensorRecord; state: ReplayState } {
    const record: TensorRecord = new Map([
      ...this.observations.toRecord('obs/'),
      ...this.nextObservations.toRecord('next/'),
    ]);
    record.set('actions', { dtype: 'int32', shape: [this.capacity], data: this.actions });
    record.set('rewards', { dtype: 'float32', shape: [this.capacity], data: this.rewards });
    record.set('dones', { dtype: 'uint8', shape: [this.capacity], data: this.dones });
    record.set('discounts', { dtype: 'float32', shape: [this.capacity], data: this.discounts });
    const embeddingKeys = this.store.keys();
    embeddingKeys.forEach((k, i) => {
      const t = this.store.get(k).tensor;
      record.set(`embedding/${i}`, { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array });
    });
    return {
      record,
      state: {
        pos: this.pos,
        full: this.isFull,
        obsKeys: [...this.observations.keys],
        nextKeys: [...this.nextObservations.keys],
        embeddingKeys,
      },
    };
  }

  loadRecord(record: TensorRecord, state: ReplayState, source: string): void {
    if (
      !state ||
      !Array.isArray(state.embeddingKeys) ||
      !Array.isArray(state.obsKeys) ||
      !Array.isArray(state.nextKeys)
    ) {
      throw new Error(`${source}: replay state is missing its keys`);
    }
    if (!(Number.isInteger(state.pos) && state.pos >= 0 && state.pos < this.capacity))
      throw new Error(`${source}: replay pos ${state.pos} outside [0, ${this.capacity})`);
    const fixed: Array<[string, Int32Array | Float32Array | Uint8Array, string]> = [
      ['actions', this.actions, 'int32'],
      ['rewards', this.rewards, 'float32'],
      ['dones', this.dones, 'uint8'],
      ['discounts', this.discounts, 'float32'],
    ];
    for (const [name, arr, dtype] of fixed) {
      const e = record.get(name);
      if (!e || e.dtype !== dtype || e.data.length !== arr.length)
        throw new Error(`${source}: tensor '${name}' missing or not ${dtype}[${arr.length}]`);
    }
    state.embeddingKeys.forEach((_, i) => {
      if (!record.get(`embedding/${i}`)) throw new Error(`${source}: missing tensor 'embedding/${i}'`);
    });
    this.observations.clear();
    this.nextObservations.clear();
    this.store.clear();
    state.embeddingKeys.forEach((key, i) => {
      const e = record.get(`embedding/${i}`)!;
      this.store.adopt(key, tf.tensor(e.data as Float32Array, e.shape, 'float32'));
    });
    try {
      this.observations.loadRecord(record, 'obs/', state.obsKeys, source);
      this.nextObservations.loadRecord(record, 'next/', state.nextKeys, source);
    } catch (err) {
      this.observations.clear();
      this.nextObservations.clear();
      this.store.clear();
      throw err;
    }
    for (const [name, arr] of fixed) arr.set(record.get(name)!.data as ArrayLike<number>);
    this.store.pruneUnused();
    this.pos = state.pos;
    this.isFull = state.full;
  }

  dispose(): void {
    this.observations.clear();
    this.nextObservations.clear();
    this.store.clear();
  }
}

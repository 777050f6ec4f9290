/**
 * Fixed-capacity storage of observations for rollout and replay buffers: the small fields are copied
 * into flat typed arrays, the embedding is stored as a key whose tensor an EmbeddingStore holds.
 */
import type { TensorRecord } from '../io/tensor-record';
import { EmbeddingStore } from '../env/prompt/embedding-store';
import type { PromptObservation } from '../env/prompt/observation';
import type { ObservationDims, PromptObservationBatch } from './observation';
import { validateObservation } from './observation';

export class ObservationTable {
  readonly keys: (string | null)[];
  readonly maskProbs: Float32Array;
  readonly clicksPositive: Float32Array;
  readonly clicksNegative: Float32Array;
  readonly stepFraction: Float32Array;
  readonly textVector: Float32Array | null;
  readonly labelerScores: Float32Array | null;
  readonly actionMask: Uint8Array;
  private readonly hw: number;
  private readonly gg: number;

  constructor(
    readonly capacity: number,
    readonly dims: ObservationDims,
    readonly store: EmbeddingStore,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new Error(`ObservationTable: capacity must be a positive integer, got ${capacity}`);
    this.hw = dims.embedH * dims.embedW;
    this.gg = dims.gridSize * dims.gridSize;
    this.keys = new Array(capacity).fill(null);
    this.maskProbs = new Float32Array(capacity * this.hw);
    this.clicksPositive = new Float32Array(capacity * this.gg);
    this.clicksNegative = new Float32Array(capacity * this.gg);
    this.stepFraction = new Float32Array(capacity);
    this.textVector = dims.textDim > 0 ? new Float32Array(capacity * dims.textDim) : null;
    this.labelerScores = dims.labelerScores ? new Float32Array(capacity * this.gg) : null;
    this.actionMask = new Uint8Array(capacity * dims.nActions);
  }

  set(slot: number, obs: PromptObservation): void {
    validateObservation(obs, this.dims, `observation for buffer slot ${slot}`);
    const key = this.store.acquire(obs.embedding);
    const old = this.keys[slot];
    if (old !== null) this.store.release(old);
    this.keys[slot] = key;
    this.maskProbs.set(obs.maskProbs, slot * this.hw);
    this.clicksPositive.set(obs.clicksPositive, slot * this.gg);
    this.clicksNegative.set(obs.clicksNegative, slot * this.gg);
    this.stepFraction[slot] = obs.stepFraction;
    if (this.textVector) this.textVector.set(obs.textVector as ArrayLike<number>, slot * this.dims.textDim);
    if (this.labelerScores) this.labelerScores.set(obs.labelerScores as ArrayLike<number>, slot * this.gg);
    const na = this.dims.nActions;
    for (let a = 0; a < na; a++) this.actionMask[slot * na + a] = obs.actionMask[a] ? 1 : 0;
  }

  /** The action mask of one slot (a view). */
  maskOf(slot: number): Uint8Array {
    const na = this.dims.nActions;
    return this.actionMask.subarray(slot * na, (slot + 1) * na);
  }

  gather(indices: ArrayLike<number>): PromptObservationBatch {
    const b = indices.length;
    const { hw, gg } = this;
    const td = this.dims.textDim;
    const na = this.dims.nActions;
    const out: PromptObservationBatch = {
      size: b,
      embeddings: new Array(b),
      maskProbs: new Float32Array(b * hw),
      clicksPositive: new Float32Array(b * gg),
      clicksNegative: new Float32Array(b * gg),
      stepFraction: new Float32Array(b),
      textVector: this.textVector ? new Float32Array(b * td) : null,
      labelerScores: this.labelerScores ? new Float32Array(b * gg) : null,
      actionMask: new Uint8Array(b * na),
    };
    for (let i = 0; i < b; i++) {
      const s = indices[i];
      const key = this.keys[s];
      if (key === null) throw new Error(`ObservationTable: slot ${s} is empty`);
      out.embeddings[i] = this.store.get(key);
      out.maskProbs.set(this.maskProbs.subarray(s * hw, (s + 1) * hw), i * hw);
      out.clicksPositive.set(this.clicksPositive.subarray(s * gg, (s + 1) * gg), i * gg);
      out.clicksNegative.set(this.clicksNegative.subarray(s * gg, (s + 1) * gg), i * gg);
      out.stepFraction[i] = this.stepFraction[s];
      if (out.textVector && this.textVector) out.textVector.set(this.textVector.subarray(s * td, (s + 1) * td), i * td);
      if (out.labelerScores && this.labelerScores)
        out.labelerScores.set(this.labelerScores.subarray(s * gg, (s + 1) * gg), i * gg);
      out.actionMask.set(this.actionMask.subarray(s * na, (s + 1) * na), i * na);
    }
    return out;
  }

  /** Release every slot's embedding. */
  clear(): void {
    for (let i = 0; i < this.capacity; i++) {
      const k = this.keys[i];
      if (k !== null) this.store.release(k);
      this.keys[i] = null;
    }
  }

  /** The arrays (not the embeddings) as a record under `prefix`; keys go to JSON separately. */
  toRecord(prefix: string): TensorRecord {
    const rec: TensorRecord = new Map();
    const c = this.capacity;
    rec.set(`${prefix}maskProbs`, { dtype: 'float32', shape: [c, this.hw], data: this.maskProbs });
    rec.set(`${prefix}clicksPositive`, { dtype: 'float32', shape: [c, this.gg], data: this.clicksPositive });
    rec.set(`${prefix}clicksNegative`, { dtype: 'float32', shape: [c, this.gg], data: this.clicksNegative });
    rec.set(`${prefix}stepFraction`, { dtype: 'float32', shape: [c], data: this.stepFraction });
    if (this.textVector)
      rec.set(`${prefix}textVector`, { dtype: 'float32', shape: [c, this.dims.textDim], data: this.textVector });
    if (this.labelerScores)
      rec.set(`${prefix}labelerScores`, { dtype: 'float32', shape: [c, this.gg], data: this.labelerScores });
    rec.set(`${prefix}actionMask`, { dtype: 'uint8', shape: [c, this.dims.nActions], data: this.actionMask });
    return rec;
  }

  /** Restore arrays and keys; the store must already hold every key (adopted from the checkpoint). */
  loadRecord(rec: TensorRecord, prefix: string, keys: (string | null)[], source: string): void {
    if (keys.length !== this.capacity) throw new Error(`${source}: ${keys.length} keys for capacity ${this.capacity}`);
    const want: Array<[string, Float32Array | Uint8Array, 'float32' | 'uint8']> = [
      ['maskProbs', this.maskProbs, 'float32'],
      ['clicksPositive', this.clicksPositive, 'float32'],
      ['clicksNegative', this.clicksNegative, 'float32'],
      ['stepFraction', this.stepFraction, 'float32'],
      ['actionMask', this.actionMask, 'uint8'],
    ];
    if (this.textVector) want.push(['textVector', this.textVector, 'float32']);
    if (this.labelerScores) want.push(['labelerScores', this.labelerScores, 'float32']);
    for (const [name, arr, dtype] of want) {
      const e = rec.get(prefix + name);
      if (!e) throw new Error(`${source}: missing tensor '${prefix}${name}'`);
      if (e.dtype !== dtype || e.data.length !== arr.length) {
        throw new Error(
          `${source}: tensor '${prefix}${name}' is ${e.dtype} with ${e.data.length} values, expected ${dtype} with ${arr.length}`,
        );
      }
    }
    this.clear();
    for (const [name, arr] of want) arr.set(rec.get(prefix + name)!.data as Float32Array | Uint8Array);
    keys.forEach((k, i) => {
      if (k !== null) this.store.retain(k);
      this.keys[i] = k;
    });
  }
}

/**
 * A small ring buffer of recent SRM training examples: the state (embedding by reference, previous
 * mask on the embedding grid), the text vector, and the ground-truth cell targets. Embeddings are
 * held through an EmbeddingStore (a shared handle, no copy), so the env may release them.
 */
import { EmbeddingStore } from '../env/prompt/embedding-store';
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingRef } from '../env/prompt/observation';
import type { TensorRecord } from '../io/tensor-record';
import type { Rng } from '../utils/rng';

export interface SrmReplayEntry {
  key: string;
  maskProbs: Float32Array;
  textVector: Float32Array | null;
  targets: Float32Array;
}

/** The JSON half of a saved replay: where the ring stands and which embedding each entry names. */
export interface SrmReplayState {
  next: number;
  /** The embedding key of entries 0..size-1. */
  keys: string[];
  /** The key of tensor `embedding/<i>` of the record. */
  embeddingKeys: string[];
}

export class SrmReplay {
  private readonly entries: (SrmReplayEntry | null)[];
  private next = 0;
  private count = 0;
  readonly store = new EmbeddingStore();

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new Error(`SrmReplay: capacity must be a positive integer, got ${capacity}`);
    this.entries = new Array(capacity).fill(null);
  }

  get size(): number {
    return this.count;
  }

  add(embedding: EmbeddingRef, maskProbs: Float32Array, textVector: Float32Array | null, targets: Float32Array): void {
    const key = this.store.acquire(embedding);
    const old = this.entries[this.next];
    if (old) this.store.release(old.key);
    this.entries[this.next] = {
      key,
      maskProbs: Float32Array.from(maskProbs),
      textVector: textVector ? Float32Array.from(textVector) : null,
      targets,
    };
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** n entries drawn uniformly with replacement. */
  sample(n: number, rng: Rng): SrmReplayEntry[] {
    if (this.count === 0) throw new Error('SrmReplay: empty (record observations before updating)');
    return Array.from({ length: n }, () => this.entries[rng.int(this.count)]!);
  }

  embedding(key: string): EmbeddingRef {
    return this.store.get(key);
  }

  /**
   * The entries as one record (`mask_probs`, `targets`, `text_vectors` [size, n] and each embedding
   * once, `embedding/<i>`) and the state that names them, so a resumed SRM samples what it would have.
   */
  toRecord(): { record: TensorRecord; state: SrmReplayState } {
    const entries = this.entries.slice(0, this.count) as SrmReplayEntry[];
    const record: TensorRecord = new Map();
    const stack = (name: string, rows: Float32Array[]) => {
      const n = rows[0]?.length ?? 0;
      const data = new Float32Array(rows.length * n);
      rows.forEach((r, i) => data.set(r, i * n));
      record.set(name, { dtype: 'float32', shape: [rows.length, n], data });
    };
    stack(
      'mask_probs',
      entries.map((e) => e.maskProbs),
    );
    stack(
      'targets',
      entries.map((e) => e.targets),
    );
    if (entries.some((e) => e.textVector))
      stack(
        'text_vectors',
        entries.map((e) => e.textVector!),
      );
    const embeddingKeys = this.store.keys();
    embeddingKeys.forEach((k, i) => {
      const t = this.store.get(k).tensor;
      record.set(`embedding/${i}`, { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array });
    });
    return { record, state: { next: this.next, keys: entries.map((e) => e.key), embeddingKeys } };
  }

  /** Replace the entries with a `toRecord()`; everything is checked (errors name `source`) before the replay changes. */
  loadRecord(record: TensorRecord, state: SrmReplayState, source: string): void {
    if (!state || !Array.isArray(state.keys) || !Array.isArray(state.embeddingKeys))
      throw new Error(`${source}: replay state needs 'keys' and 'embeddingKeys'`);
    const size = state.keys.length;
    if (size > this.capacity)
      throw new Error(`${source}: replay holds ${size} entries, more than its capacity ${this.capacity}`);
    const full = size === this.capacity;
    if (!(
      Number.isInteger(state.next) &&
      state.next >= 0 &&
      state.next < this.capacity &&
      (full || state.next === size)
    )) {
      throw new Error(
        `${source}: replay 'next' ${JSON.stringify(state.next)} does not fit ${size} entries of ${this.capacity}`,
      );
    }
    const unknown = state.keys.find((k) => !state.embeddingKeys.includes(k));
    if (unknown !== undefined) throw new Error(`${source}: replay entry key '${unknown}' names no saved embedding`);
    const rows = (name: string, required: boolean): Float32Array[] | null => {
      const t = record.get(name);
      if (!t) {
        if (required && size > 0) throw new Error(`${source}: tensor '${name}' is missing`);
        return null;
      }
      if (t.dtype !== 'float32' || t.shape.length !== 2 || t.shape[0] !== size)
        throw new Error(`${source}: tensor '${name}' must be float32 [${size}, n], got ${t.dtype} [${t.shape}]`);
      const n = t.shape[1];
      return Array.from({ length: size }, (_, i) => (t.data as Float32Array).slice(i * n, (i + 1) * n));
    };
    const maskProbs = rows('mask_probs', true);
    const targets = rows('targets', true);
    const text = rows('text_vectors', false);
    state.embeddingKeys.forEach((_, i) => {
      const t = record.get(`embedding/${i}`);
      if (!t || t.dtype !== 'float32') throw new Error(`${source}: tensor 'embedding/${i}' is missing or not float32`);
    });
    this.clear();
    state.embeddingKeys.forEach((key, i) => {
      const t = record.get(`embedding/${i}`)!;
      this.store.adopt(key, tf.tensor(t.data as Float32Array, t.shape, 'float32'));
    });
    state.keys.forEach((key, i) => {
      this.store.retain(key);
      this.entries[i] = { key, maskProbs: maskProbs![i], textVector: text ? text[i] : null, targets: targets![i] };
    });
    this.store.pruneUnused();
    this.next = state.next;
    this.count = size;
  }

  clear(): void {
    this.entries.fill(null);
    this.store.clear();
    this.next = 0;
    this.count = 0;
  }
}

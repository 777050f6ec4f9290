/**
 * A small ring buffer of recent SRM training examples: the state (embedding by reference, previous
 * mask on the embedding grid), the text vector, and the ground-truth cell targets. Embeddings are
 * held through an EmbeddingStore (a shared handle, no copy), so the env may release them.
 */
import { EmbeddingStore } from '../env/prompt/embedding-store';
import type { EmbeddingRef } from '../env/prompt/observation';
import type { Rng } from '../utils/rng';

export interface SrmReplayEntry {
  key: string;
  maskProbs: Float32Array;
  textVector: Float32Array | null;
  targets: Float32Array;
}

export class SrmReplay {
  private readonly entries: (SrmReplayEntry | null)[];
  private next = 0;
  private count = 0;
  readonly store = new EmbeddingStore();

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`SrmReplay: capacity must be a positive integer, got ${capacity}`);
    this.entries = new Array(capacity).fill(null);
  }

  get size(): number {
    return this.count;
  }

  add(embedding: EmbeddingRef, maskProbs: Float32Array, textVector: Float32Array | null, targets: Float32Array): void {
    const key = this.store.acquire(embedding);
    const old = this.entries[this.next];
    if (old) this.store.release(old.key);
    this.entries[this.next] = { key, maskProbs: Float32Array.from(maskProbs), textVector: textVector ? Float32Array.from(textVector) : null, targets };
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

  clear(): void {
    this.entries.fill(null);
    this.store.clear();
    this.next = 0;
    this.count = 0;
  }
}

/**
 * Reference-counted holder of image embeddings for rollout and replay buffers.
 *
 * A buffer entry names an embedding by key; the store keeps one tensor per key alive while any entry
 * uses it. It holds its own handle on the env's tensor through a reshape, which on every tfjs
 * backend shares the underlying data (no copy) and bumps its reference count, so the env may dispose
 * its tensor at the end of an episode without breaking the buffer.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingRef } from './observation';

interface Held {
  tensor: tf.Tensor;
  uses: number;
}

export class EmbeddingStore {
  private readonly held = new Map<string, Held>();

  /** Take one use of `ref`'s embedding; returns its key. */
  acquire(ref: EmbeddingRef): string {
    const cur = this.held.get(ref.key);
    if (cur) {
      if (!sameShape(cur.tensor.shape, ref.tensor.shape)) {
        throw new Error(
          `EmbeddingStore: key '${ref.key}' is held with shape [${cur.tensor.shape}] but a tensor of shape [${ref.tensor.shape}] arrived under the same key`,
        );
      }
      cur.uses++;
      return ref.key;
    }
    if (ref.tensor.isDisposed)
      throw new Error(`EmbeddingStore: embedding '${ref.key}' was disposed before it was stored`);
    const shared = tf.tidy(() => tf.keep(tf.reshape(ref.tensor, ref.tensor.shape)));
    this.held.set(ref.key, { tensor: shared, uses: 1 });
    return ref.key;
  }

  /** Adopt a tensor this store will own (e.g. loaded from a checkpoint) with zero uses. */
  adopt(key: string, tensor: tf.Tensor): void {
    if (this.held.has(key)) throw new Error(`EmbeddingStore: key '${key}' is already held`);
    this.held.set(key, { tensor: tf.keep(tensor), uses: 0 });
  }

  /** Give back one use; the tensor is freed when none remain. */
  release(key: string): void {
    const cur = this.held.get(key);
    if (!cur) throw new Error(`EmbeddingStore: release of unknown key '${key}'`);
    cur.uses--;
    if (cur.uses <= 0) {
      cur.tensor.dispose();
      this.held.delete(key);
    }
  }

  /** Free every tensor whose use count is zero (after `adopt` + fewer acquires than adopted). */
  pruneUnused(): void {
    for (const [key, h] of this.held) {
      if (h.uses <= 0) {
        h.tensor.dispose();
        this.held.delete(key);
      }
    }
  }

  get(key: string): EmbeddingRef {
    const cur = this.held.get(key);
    if (!cur) throw new Error(`EmbeddingStore: no embedding held for key '${key}'`);
    return { key, tensor: cur.tensor };
  }

  /** Add a use to a key already held (a second buffer slot naming the same image). */
  retain(key: string): void {
    const cur = this.held.get(key);
    if (!cur) throw new Error(`EmbeddingStore: retain of unknown key '${key}'`);
    cur.uses++;
  }

  uses(key: string): number {
    return this.held.get(key)?.uses ?? 0;
  }

  keys(): string[] {
    return [...this.held.keys()];
  }

  get size(): number {
    return this.held.size;
  }

  clear(): void {
    for (const h of this.held.values()) h.tensor.dispose();
    this.held.clear();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

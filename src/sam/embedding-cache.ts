/**
 * Image embeddings computed once per (weights, image, input size), kept in memory (bounded, least
 * recently used first out) and optionally on disk (one safetensors file per key, written
 * atomically), so every env, worker and run shares them.
 *
 * Embeddings handed out are referenced by observations and buffers, so an entry is only disposed
 * when it is evicted AND no holder has it: `acquire` pins it, `release` unpins it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/types';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { toFloat32 } from '../io/tensor-record';
import { ImageEmbedding } from './image-embedding';
import { embeddingKey, encodeImage } from './image-encoding';
import type { SamModel } from './sam-model';

export interface EmbeddingCacheOptions {
  /** Embeddings kept in memory (a ViT-B embedding is 4 MiB). Default 64. */
  maxInMemory?: number;
  /** Folder for the disk cache; none when omitted. */
  dir?: string;
}

export interface EmbeddingCacheStats {
  memoryHits: number;
  diskHits: number;
  computed: number;
  inMemory: number;
}

interface Entry {
  embedding: ImageEmbedding;
  refs: number;
}

export class EmbeddingCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxInMemory: number;
  readonly dir: string | null;
  private readonly stats = { memoryHits: 0, diskHits: 0, computed: 0 };
  /** Loads in flight, with the number of callers waiting to pin the result. */
  private readonly pending = new Map<string, { job: Promise<ImageEmbedding>; waiting: { pins: number } }>();

  constructor(
    readonly model: SamModel,
    options: EmbeddingCacheOptions = {},
  ) {
    this.maxInMemory = options.maxInMemory ?? 64;
    if (!(this.maxInMemory >= 1)) throw new Error(`EmbeddingCache: maxInMemory must be >= 1, got ${options.maxInMemory}`);
    this.dir = options.dir ?? null;
  }

  keyOf(image: RgbImage): string {
    return embeddingKey(this.model, image);
  }

  /** The embedding of `image`, pinned until `release`. Computes it at most once. */
  async acquire(image: RgbImage): Promise<ImageEmbedding> {
    const emb = await this.getByKey(this.keyOf(image), image, true);
    this.evict();
    return emb;
  }

  /**
   * The embedding with this key, from memory or the disk cache, pinned until `release` (for
   * processes that receive keys from workers that computed the embeddings).
   */
  async acquireKey(key: string): Promise<ImageEmbedding> {
    let entry = this.entries.get(key);
    if (!entry) {
      const file = this.dir ? this.filePath(key) : null;
      const emb = file && fs.existsSync(file) ? await this.readFile(file, key) : null;
      if (!emb) throw new Error(`embedding '${key}' is neither in memory nor in the disk cache${this.dir ? ` (${this.dir})` : ' (no cache dir)'}`);
      this.stats.diskHits++;
      entry = this.entries.get(key) ?? { embedding: emb, refs: 0 };
      this.entries.set(key, entry);
    } else {
      this.stats.memoryHits++;
    }
    entry.refs++;
    this.evict();
    return entry.embedding;
  }

  release(embedding: ImageEmbedding): void {
    const entry = this.entries.get(embedding.key);
    if (entry && entry.embedding === embedding) {
      entry.refs = Math.max(0, entry.refs - 1);
      this.evict();
    }
  }

  /** Compute (or load from disk) without pinning, e.g. to fill the disk cache ahead of training. */
  async warm(image: RgbImage): Promise<string> {
    const key = this.keyOf(image);
    if (this.dir && !this.entries.has(key) && fs.existsSync(this.filePath(key))) return key;
    await this.getByKey(key, image, false);
    this.evict();
    return key;
  }

  hasOnDisk(image: RgbImage): boolean {
    return this.dir !== null && fs.existsSync(this.filePath(this.keyOf(image)));
  }

  getStats(): EmbeddingCacheStats {
    return { ...this.stats, inMemory: this.entries.size };
  }

  /** Dispose every unpinned embedding. */
  clear(): void {
    for (const [key, entry] of this.entries) {
      if (entry.refs === 0) {
        entry.embedding.dispose();
        this.entries.delete(key);
      }
    }
  }

  /**
   * The embedding for `key`, from memory or loaded once however many callers ask. With `pin`, the
   * caller's reference is counted in the same synchronous step that makes the entry visible (a
   * memory hit, or the load's completion), so no other caller's eviction can run in between.
   */
  private getByKey(key: string, image: RgbImage, pin: boolean): Promise<ImageEmbedding> {
    const hit = this.entries.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.stats.memoryHits++;
      if (pin) hit.refs++;
      return Promise.resolve(hit.embedding);
    }
    let pending = this.pending.get(key);
    if (!pending) {
      const waiting = { pins: 0 };
      const job = this.load(key, image).then(
        (emb) => {
          this.pending.delete(key);
          const existing = this.entries.get(key);
          if (existing) {
            // acquireKey read the same file meanwhile: keep its copy.
            if (existing.embedding !== emb) emb.dispose();
            existing.refs += waiting.pins;
            return existing.embedding;
          }
          this.entries.set(key, { embedding: emb, refs: waiting.pins });
          return emb;
        },
        (err) => {
          this.pending.delete(key);
          throw err;
        },
      );
      pending = { job, waiting };
      this.pending.set(key, pending);
    }
    if (pin) pending.waiting.pins++;
    return pending.job;
  }

  private async load(key: string, image: RgbImage): Promise<ImageEmbedding> {
    if (this.dir) {
      const file = this.filePath(key);
      if (fs.existsSync(file)) {
        const emb = await this.readFile(file, key);
        if (emb) {
          this.stats.diskHits++;
          return emb;
        }
      }
    }
    const emb = encodeImage(this.model, image, key);
    this.stats.computed++;
    if (this.dir) await this.writeFile(emb);
    return emb;
  }

  private filePath(key: string): string {
    return path.join(this.dir!, `${key}.safetensors`);
  }

  private async readFile(file: string, key: string): Promise<ImageEmbedding | null> {
    const { tensors, metadata } = await readSafetensors(file);
    const t = tensors.get('embedding');
    const e = this.model.gridSize;
    const d = this.model.config.maskDecoder.transformerDim;
    if (!t || t.shape.join() !== [e, e, d].join() || metadata.weights_id !== this.model.weightsId) {
      // A stale or foreign file: ignore it and recompute (it is overwritten atomically).
      return null;
    }
    const num = (k: string) => {
      const v = Number(metadata[k]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${file}: metadata '${k}' must be a positive integer, got ${metadata[k]}`);
      return v;
    };
    return new ImageEmbedding(
      key,
      tf.tensor3d(toFloat32(t, `${file}: embedding`), [e, e, d]),
      { height: num('original_height'), width: num('original_width') },
      { height: num('input_height'), width: num('input_width') },
    );
  }

  private async writeFile(emb: ImageEmbedding): Promise<void> {
    await fs.promises.mkdir(this.dir!, { recursive: true });
    const data = (await emb.embedding.data()) as Float32Array;
    await writeSafetensors(this.filePath(emb.key), new Map([['embedding', { dtype: 'float32', shape: emb.embedding.shape, data }]]), {
      weights_id: this.model.weightsId,
      original_height: String(emb.originalSize.height),
      original_width: String(emb.originalSize.width),
      input_height: String(emb.inputSize.height),
      input_width: String(emb.inputSize.width),
    });
  }

  private evict(): void {
    if (this.entries.size <= this.maxInMemory) return;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxInMemory) break;
      if (entry.refs === 0) {
        entry.embedding.dispose();
        this.entries.delete(key);
      }
    }
  }
}

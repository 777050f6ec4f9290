/**
 * Image embeddings computed once per (weights, image, input size), kept in memory (bounded, least
 * recently used first out) and optionally on disk (one safetensors file per key, written
 * atomically), so every env, worker and run shares them.
 *
 * Embeddings handed out are referenced by observations and buffers, so an entry is only disposed
 * when it is evicted AND no holder has it: `acquire` pins it, `release` unpins it.
 *
 * A disk file is checked whenever it is read: it must parse whole, hold one float32 tensor of the
 * model's embedding shape with finite values, and match the CRC-32C of its values stored in its
 * metadata (files written before the checksum existed are checked without it). A damaged file is
 * reported through `onWarning`, recomputed and replaced; it never counts as cached.
 *
 * Given an `EncoderPool`, missing embeddings are computed on its worker threads, so images asked
 * for together (a vector env's resets, `alignsam embed`) are encoded on several cores at once.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/types';
import { parseSafetensors, readSafetensors, writeSafetensors, type SafetensorsContents } from '../io/safetensors';
import { toFloat32 } from '../io/tensor-record';
import { crc32c } from '../io/crc32c';
import { ImageEmbedding } from './image-embedding';
import type { EncoderPool } from './encoder-pool';
import { embeddingKey, encodeImage } from './image-encoding';
import type { SamModel } from './modeling/sam-model';

export interface EmbeddingCacheOptions {
  /** Embeddings kept in memory (a ViT-B embedding is 4 MiB). Default 64. */
  maxInMemory?: number;
  /** Folder for the disk cache; none when omitted. */
  dir?: string;
  /** Told about damaged cache files being replaced (default: console.warn). */
  onWarning?: (message: string) => void;
  /** Worker threads that compute missing embeddings (default: none, the calling thread does). */
  encoder?: EncoderPool;
}

/** What a disk file holds, or why it cannot be used. */
type FileCheck =
  | {
      ok: true;
      data: Float32Array;
      originalSize: { height: number; width: number };
      inputSize: { height: number; width: number };
    }
  | { ok: false; foreign: boolean; reason: string };

function checksumOf(data: Float32Array): string {
  return crc32c(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .toString(16)
    .padStart(8, '0');
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
  private readonly warn: (message: string) => void;
  /** The worker threads that compute missing embeddings, if any (the cache does not close them). */
  readonly encoder: EncoderPool | null;
  /** Loads in flight, with the number of callers waiting to pin the result. */
  private readonly pending = new Map<string, { job: Promise<ImageEmbedding>; waiting: { pins: number } }>();

  constructor(
    readonly model: SamModel,
    options: EmbeddingCacheOptions = {},
  ) {
    this.maxInMemory = options.maxInMemory ?? 64;
    if (!(this.maxInMemory >= 1))
      throw new Error(`EmbeddingCache: maxInMemory must be >= 1, got ${options.maxInMemory}`);
    this.dir = options.dir ?? null;
    this.warn = options.onWarning ?? ((m: string) => console.warn(m));
    this.encoder = options.encoder ?? null;
    const poolWeights = this.encoder?.weightsId;
    if (poolWeights !== undefined && poolWeights !== model.weightsId) {
      throw new Error(
        `EmbeddingCache: the encoder pool's weights (${poolWeights}) are not the model's (${model.weightsId})`,
      );
    }
  }

  keyOf(image: RgbImage): string {
    return embeddingKey(this.model, image);
  }

  /**
   * The embedding of `image`, pinned until `release`. Computes it at most once. `name` (a file, a
   * sample id) leads the message of a failed encoding.
   */
  async acquire(image: RgbImage, name?: string): Promise<ImageEmbedding> {
    const emb = await this.getByKey(this.keyOf(image), image, true, name);
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
      const check = file && fs.existsSync(file) ? await this.readFile(file) : null;
      if (check && !check.ok)
        throw new Error(`${file}: ${check.reason}; delete it and compute the embedding again (alignsam embed)`);
      if (!check)
        throw new Error(
          `embedding '${key}' is neither in memory nor in the disk cache${this.dir ? ` (${this.dir})` : ' (no cache dir)'}`,
        );
      const emb = this.toEmbedding(key, check);
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
  async warm(image: RgbImage, name?: string): Promise<string> {
    const key = this.keyOf(image);
    if (this.dir && !this.entries.has(key) && this.checkFileSync(this.filePath(key)).ok) return key;
    await this.getByKey(key, image, false, name);
    this.evict();
    return key;
  }

  /**
   * `warm` for a stream of images, with as many in flight as the encoder pool keeps busy (one at a
   * time without a pool). `onWarmed` is told each image's key as it is done. At the first failure
   * no more images are started; the ones in flight finish (their files are written), then it throws.
   */
  async warmMany(
    images: AsyncIterable<{ image: RgbImage; name?: string }> | Iterable<{ image: RgbImage; name?: string }>,
    onWarmed?: (key: string) => void,
  ): Promise<void> {
    const limit = this.encoder?.capacity ?? 1;
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    for await (const { image, name } of images) {
      const job: Promise<void> = this.warm(image, name).then(
        (key) => onWarmed?.(key),
        (err) => {
          failure ??= err;
        },
      );
      const tracked = job.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      while (inFlight.size >= limit && failure === null) await Promise.race(inFlight);
      if (failure !== null) break;
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
  }

  /** Whether the disk cache holds a whole, valid file for `image` (the file is read and checked). */
  hasOnDisk(image: RgbImage): boolean {
    return this.dir !== null && this.checkFileSync(this.filePath(this.keyOf(image))).ok;
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
  private getByKey(key: string, image: RgbImage, pin: boolean, name?: string): Promise<ImageEmbedding> {
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
      const job = this.load(key, image, name).then(
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

  private async load(key: string, image: RgbImage, name?: string): Promise<ImageEmbedding> {
    if (this.dir) {
      const file = this.filePath(key);
      if (fs.existsSync(file)) {
        const check = await this.readFile(file);
        if (check.ok) {
          this.stats.diskHits++;
          return this.toEmbedding(key, check);
        }
        // A file of other weights under this key is stale, not damaged: replaced without a word.
        if (!check.foreign)
          this.warn(`embedding cache: ${file}: ${check.reason}; recomputing it and replacing the file`);
      }
    }
    const emb = await this.compute(key, image, name);
    this.stats.computed++;
    if (this.dir) await this.writeFile(emb);
    return emb;
  }

  private async compute(key: string, image: RgbImage, name?: string): Promise<ImageEmbedding> {
    if (!this.encoder) {
      try {
        return encodeImage(this.model, image, key);
      } catch (err) {
        throw name ? new Error(`${name}: ${(err as Error).message}`) : err;
      }
    }
    const r = await this.encoder.encode(image, name ?? `image ${key}`);
    const e = this.model.gridSize;
    const d = this.model.config.maskDecoder.transformerDim;
    if (r.shape.join() !== [e, e, d].join())
      throw new Error(
        `${name ?? `image ${key}`}: the encoder pool returned an embedding of shape [${r.shape}], expected [${e}, ${e}, ${d}]`,
      );
    return new ImageEmbedding(key, tf.tensor3d(r.data, r.shape), r.originalSize, r.inputSize);
  }

  private filePath(key: string): string {
    return path.join(this.dir!, `${key}.safetensors`);
  }

  private async readFile(file: string): Promise<FileCheck> {
    let contents: SafetensorsContents;
    try {
      contents = await readSafetensors(file);
    } catch (err) {
      return { ok: false, foreign: false, reason: `unreadable (${(err as Error).message.replace(`${file}: `, '')})` };
    }
    return this.checkContents(contents, file);
  }

  private checkFileSync(file: string): FileCheck {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      return { ok: false, foreign: false, reason: `unreadable (${(err as Error).message})` };
    }
    try {
      return this.checkContents(parseSafetensors(bytes, file), file);
    } catch (err) {
      return { ok: false, foreign: false, reason: `unreadable (${(err as Error).message.replace(`${file}: `, '')})` };
    }
  }

  private checkContents({ tensors, metadata }: SafetensorsContents, file: string): FileCheck {
    const e = this.model.gridSize;
    const d = this.model.config.maskDecoder.transformerDim;
    if (metadata.weights_id !== this.model.weightsId)
      return { ok: false, foreign: true, reason: `computed with other weights (${metadata.weights_id})` };
    const t = tensors.get('embedding');
    if (!t || t.dtype !== 'float32' || t.shape.join() !== [e, e, d].join()) {
      return {
        ok: false,
        foreign: false,
        reason: `expected a float32 tensor 'embedding' of shape [${e}, ${e}, ${d}], got ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'none'}`,
      };
    }
    const data = toFloat32(t, `${file}: embedding`);
    if (metadata.crc32c !== undefined && metadata.crc32c !== checksumOf(data)) {
      return {
        ok: false,
        foreign: false,
        reason: `checksum mismatch (stored ${metadata.crc32c}, values give ${checksumOf(data)}): the file is damaged`,
      };
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return { ok: false, foreign: false, reason: `value ${i} is ${data[i]}` };
    }
    const sizes: number[] = [];
    for (const k of ['original_height', 'original_width', 'input_height', 'input_width']) {
      const v = Number(metadata[k]);
      if (!Number.isInteger(v) || v <= 0)
        return { ok: false, foreign: false, reason: `metadata '${k}' must be a positive integer, got ${metadata[k]}` };
      sizes.push(v);
    }
    return {
      ok: true,
      data,
      originalSize: { height: sizes[0], width: sizes[1] },
      inputSize: { height: sizes[2], width: sizes[3] },
    };
  }

  private toEmbedding(key: string, check: Extract<FileCheck, { ok: true }>): ImageEmbedding {
    const e = this.model.gridSize;
    const d = this.model.config.maskDecoder.transformerDim;
    return new ImageEmbedding(key, tf.tensor3d(check.data, [e, e, d]), check.originalSize, check.inputSize);
  }

  private async writeFile(emb: ImageEmbedding): Promise<void> {
    await fs.promises.mkdir(this.dir!, { recursive: true });
    const data = (await emb.embedding.data()) as Float32Array;
    await writeSafetensors(
      this.filePath(emb.key),
      new Map([['embedding', { dtype: 'float32', shape: emb.embedding.shape, data }]]),
      {
        weights_id: this.model.weightsId,
        crc32c: checksumOf(data),
        original_height: String(emb.originalSize.height),
        original_width: String(emb.originalSize.width),
        input_height: String(emb.inputSize.height),
        input_width: String(emb.inputSize.width),
      },
    );
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

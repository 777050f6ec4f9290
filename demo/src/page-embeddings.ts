/**
 * The image embeddings of the page: the prompting env asks for `acquire(image)` / `release(e)`
 * and reads `model`, which is all of EmbeddingCache it uses. The Node cache adds a disk store
 * (fs) and keys by SHA-256 (node:crypto); here embeddings live in memory only, keyed by a
 * content hash, and one image is kept (the page shows one at a time).
 */
import type { RgbImage } from '../../src/data/types';
import type { EmbeddingCache } from '../../src/sam/embedding-cache';
import type { ImageEmbedding } from '../../src/sam/image-embedding';
import { encodeImage } from '../../src/sam/image-encoding';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { contentHash } from './content-hash';

interface Entry {
  embedding: ImageEmbedding;
  refs: number;
}

export class PageEmbeddings {
  private readonly entries = new Map<string, Entry>();
  /** Milliseconds the last encoder pass took (0 after a memory hit). */
  lastEncodeMs = 0;

  constructor(readonly model: SamModel) {}

  keyOf(image: RgbImage): string {
    return contentHash(
      image.data,
      `${this.model.weightsId}|${this.model.config.imageEncoder.imgSize}|${image.width}x${image.height}|`,
    );
  }

  async acquire(image: RgbImage): Promise<ImageEmbedding> {
    const key = this.keyOf(image);
    let entry = this.entries.get(key);
    this.lastEncodeMs = 0;
    if (!entry) {
      this.dropUnused();
      const t0 = performance.now();
      entry = { embedding: encodeImage(this.model, image, key), refs: 0 };
      this.lastEncodeMs = performance.now() - t0;
      this.entries.set(key, entry);
    }
    entry.refs++;
    return entry.embedding;
  }

  release(embedding: ImageEmbedding): void {
    const entry = this.entries.get(embedding.key);
    if (entry && entry.embedding === embedding) entry.refs = Math.max(0, entry.refs - 1);
  }

  /** Dispose every embedding no env holds. */
  dropUnused(): void {
    for (const [key, entry] of this.entries) {
      if (entry.refs === 0) {
        entry.embedding.dispose();
        this.entries.delete(key);
      }
    }
  }

  /**
   * This object where the env's options want an EmbeddingCache: the env only calls the members
   * above (the class's private fields make TypeScript refuse the structural match).
   */
  asCache(): EmbeddingCache {
    return this as unknown as EmbeddingCache;
  }
}

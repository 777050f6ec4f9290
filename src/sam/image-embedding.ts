/**
 * An encoded image: SAM's embedding [E, E, D] (channels-last) with the sizes needed to map
 * prompts and masks between the original image and the model's input frame. It owns its tensors;
 * observations and buffers reference it by `key` and never copy it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSizeHW } from './processing/transforms';
import type { ImageKeysCache } from './modeling/two-way-transformer';

export class ImageEmbedding {
  private keysCache: ImageKeysCache | null = null;
  private disposed = false;

  constructor(
    /** Content key: model weights, image bytes and input size. */
    readonly key: string,
    /** [E, E, D] */
    readonly embedding: tf.Tensor3D,
    readonly originalSize: ImageSizeHW,
    /** Size of the resized image inside the padded input square. */
    readonly inputSize: ImageSizeHW,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Layer-0 keys cache, built once on first use by the decoder. */
  getKeysCache(build: () => ImageKeysCache): ImageKeysCache {
    if (this.disposed) throw new Error(`image embedding '${this.key}' was disposed`);
    if (!this.keysCache) {
      // Built lazily, possibly inside a caller's tf.tidy: keep it alive until dispose().
      const cache = build();
      for (const t of Object.values(cache)) tf.keep(t as tf.Tensor);
      this.keysCache = cache;
    }
    return this.keysCache;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.embedding.dispose();
    if (this.keysCache) {
      for (const t of Object.values(this.keysCache)) (t as tf.Tensor).dispose();
      this.keysCache = null;
    }
  }
}

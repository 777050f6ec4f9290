/**
 * The decoder's low-resolution frame: SAM's low-res logits are L x L (L = 4E) over the padded
 * S x S input, of which the top-left part holds the resized image. Training computes masks, ground
 * truth and rewards on that valid part, so no full-size mask is ever made during RL.
 */
import type { ImageEmbedding } from '../../sam/image-embedding';

export class LowResFrame {
  /** Valid rows and columns of the L x L grid (pixel centres inside the resized image). */
  readonly height: number;
  readonly width: number;
  /** Original-image pixels per low-res pixel, per axis. */
  private readonly scaleX: number;
  private readonly scaleY: number;

  constructor(
    readonly side: number,
    inputImgSize: number,
    embedding: ImageEmbedding,
  ) {
    const step = inputImgSize / side;
    const count = (extent: number) => {
      let n = 0;
      while (n < side && (n + 0.5) * step < extent) n++;
      return n;
    };
    this.height = count(embedding.inputSize.height);
    this.width = count(embedding.inputSize.width);
    this.scaleX = (step * embedding.originalSize.width) / embedding.inputSize.width;
    this.scaleY = (step * embedding.originalSize.height) / embedding.inputSize.height;
  }

  /** A full-resolution binary mask sampled (nearest) at the valid low-res pixel centres. */
  sample(mask: Uint8Array, width: number, height: number): Uint8Array {
    const out = new Uint8Array(this.height * this.width);
    // Source columns once per call (Math lookups in the inner loop are slow under jest's vm context).
    const cols = new Int32Array(this.width);
    for (let j = 0; j < this.width; j++) cols[j] = Math.min(width - 1, Math.floor((j + 0.5) * this.scaleX));
    for (let i = 0; i < this.height; i++) {
      const rowStart = Math.min(height - 1, Math.floor((i + 0.5) * this.scaleY)) * width;
      for (let j = 0; j < this.width; j++) out[i * this.width + j] = mask[rowStart + cols[j]] ? 1 : 0;
    }
    return out;
  }

  /** An original-image point (x, y) in low-res pixel coordinates. */
  toLowRes(x: number, y: number): [number, number] {
    return [x / this.scaleX, y / this.scaleY];
  }
}

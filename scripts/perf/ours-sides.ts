/**
 * This project as sides of an interleaved benchmark: the encoder and decoder on the calling thread,
 * and the encoder over an `EncoderPool` (one image per worker each pass).
 */
import type { RgbImage } from '../../src/data/types';
import { EncoderPool } from '../../src/sam/encoder-pool';
import { encodeImage } from '../../src/sam/image-encoding';
import type { ImageEmbedding } from '../../src/sam/image-embedding';
import type { SamModel } from '../../src/sam/modeling/sam-model';
import { disposePrediction, SamPredictor } from '../../src/sam/predictor';
import type { Side } from './interleaved';

/** The benchmarks' prompt: one positive point at (0.4, 0.6) of the image, multimask, low-res logits. */
export function benchPoint(image: RgbImage): [number, number] {
  return [image.width * 0.4, image.height * 0.6];
}

/** Encoder and decoder on the calling thread, with the backend it was started on. */
export function callingThreadSide(sam: SamModel, image: RgbImage, backend: string): Side {
  let embedding: ImageEmbedding = encodeImage(sam, image);
  const predictor = new SamPredictor(sam);
  predictor.setEmbedding(embedding);
  const prompt = { pointCoords: benchPoint(image), pointLabels: [1], multimaskOutput: true, lowResOnly: true };
  return {
    id: 'wasm',
    label: `this project (${backend}, 1 thread)`,
    threads: 1,
    async encoder() {
      embedding.dispose();
      const t = performance.now();
      embedding = encodeImage(sam, image);
      await embedding.embedding.data();
      const ms = performance.now() - t;
      predictor.setEmbedding(embedding);
      return ms;
    },
    async decoder(calls) {
      const out: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        const p = predictor.predict(prompt);
        await p.lowResLogits.data();
        out.push(performance.now() - t);
        disposePrediction(p);
      }
      return out;
    },
    async close() {
      embedding.dispose();
    },
  };
}

/** The encoder over `workers` worker threads: each pass encodes one image per worker, at once. */
export async function encoderPoolSide(
  sam: SamModel,
  checkpoint: string,
  image: RgbImage,
  workers: number,
): Promise<Side> {
  const pool = new EncoderPool({ checkpoint, config: sam.config, workers, weightsId: sam.weightsId });
  await pool.ready();
  return {
    id: 'wasm-pool',
    label: `this project (${pool.backend}, ${workers} workers)`,
    threads: workers,
    async encoder() {
      const t = performance.now();
      await Promise.all(Array.from({ length: workers }, (_, i) => pool.encode(image, `image ${i}`)));
      return (performance.now() - t) / workers;
    },
    close: () => pool.close(),
  };
}

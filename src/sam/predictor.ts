/**
 * The reference's `SamPredictor` shape: set an image once (one encoder pass), then predict masks
 * from points, labels, a box and/or a mask input as often as needed. Coordinates are in original
 * image pixels, (x, y). `predictBatch` decodes many prompt sets, for one image or for several
 * embeddings, in one call.
 *
 * Returned tensors belong to the caller: dispose them (or call `disposePrediction`).
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/types';
import type { EmbeddingCache } from './embedding-cache';
import { ImageEmbedding } from './image-embedding';
import { encodeImage } from './image-encoding';
import { postprocessMasks } from './processing/postprocess';
import { ModelPrompt } from './modeling/prompt-encoder';
import { SamModel } from './modeling/sam-model';
import { applyCoords } from './processing/transforms';

export interface PromptInput {
  /** [N, 2] (x, y) in original-image pixels: flat or as pairs. */
  pointCoords?: ArrayLike<number> | ArrayLike<number>[] | null;
  /** [N]: 1 foreground, 0 background. */
  pointLabels?: ArrayLike<number> | null;
  /** (x0, y0, x1, y1) in original-image pixels. */
  box?: ArrayLike<number> | null;
  /** Low-res mask logits [4E, 4E] from an earlier prediction (e.g. `lowResLogits` row 0). */
  maskInput?: tf.Tensor2D | tf.Tensor3D | null;
  /** Three masks (tokens 1..3) when true, one (token 0) when false. Default true. */
  multimaskOutput?: boolean;
  /** Full-size logits instead of binary masks. Default false. */
  returnLogits?: boolean;
  /** Skip the full-size masks (only low-res logits and IoU). Default false. */
  lowResOnly?: boolean;
}

export interface Prediction {
  /** [C, H, W] at original size: binary (0/1, bool) or logits; null with lowResOnly. */
  masks: tf.Tensor3D | null;
  /** [C] */
  iouPredictions: tf.Tensor1D;
  /** [C, 4E, 4E] */
  lowResLogits: tf.Tensor3D;
}

export function disposePrediction(p: Prediction): void {
  p.masks?.dispose();
  p.iouPredictions.dispose();
  p.lowResLogits.dispose();
}

function flatten(coords: ArrayLike<number> | ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < coords.length; i++) {
    const v = (coords as ArrayLike<unknown>)[i];
    if (typeof v === 'number') out.push(v);
    else out.push(...Array.from(v as ArrayLike<number>));
  }
  return out;
}

export class SamPredictor {
  private current: ImageEmbedding | null = null;
  private ownsCurrent = false;

  constructor(
    readonly model: SamModel,
    private readonly cache: EmbeddingCache | null = null,
  ) {}

  /** Encode an RGB image (or fetch it from the cache) and make it the current image. */
  async setImage(image: RgbImage): Promise<ImageEmbedding> {
    this.resetImage();
    if (this.cache) {
      this.current = await this.cache.acquire(image);
      this.ownsCurrent = false;
    } else {
      this.current = encodeImage(this.model, image);
      this.ownsCurrent = true;
    }
    return this.current;
  }

  /** Use an embedding computed elsewhere (the caller keeps ownership). */
  setEmbedding(embedding: ImageEmbedding): void {
    this.resetImage();
    this.current = embedding;
    this.ownsCurrent = false;
  }

  get embedding(): ImageEmbedding | null {
    return this.current;
  }

  resetImage(): void {
    if (this.current) {
      if (this.ownsCurrent) this.current.dispose();
      else if (this.cache) this.cache.release(this.current);
    }
    this.current = null;
  }

  predict(input: PromptInput): Prediction {
    if (!this.current) throw new Error('SamPredictor: call setImage() before predict()');
    return this.predictBatch([{ ...input, embedding: this.current }])[0];
  }

  /** Decode many prompt sets in one call; each may name its own embedding (default: the current image). */
  predictBatch(inputs: Array<PromptInput & { embedding?: ImageEmbedding }>): Prediction[] {
    const s = this.model.config.imageEncoder.imgSize;
    const requests = inputs.map((inp, i) => {
      const embedding = inp.embedding ?? this.current;
      if (!embedding) throw new Error(`predictBatch: input ${i} has no embedding and no image is set`);
      return {
        embedding,
        prompt: this.toModelPrompt(inp, embedding, i),
        maskInput: this.maskInput(inp.maskInput, i),
        multimaskOutput: inp.multimaskOutput ?? true,
      };
    });
    try {
      const outs = this.model.decode(requests);
      return outs.map((o, i) => {
        const inp = inputs[i];
        const emb = requests[i].embedding;
        let masks: tf.Tensor3D | null = null;
        if (!inp.lowResOnly) {
          const logits = postprocessMasks(o.lowResLogits, emb.inputSize, emb.originalSize, s);
          if (inp.returnLogits) masks = logits;
          else {
            masks = tf.tidy(() => logits.greater(this.model.config.maskThreshold)) as tf.Tensor3D;
            logits.dispose();
          }
        }
        return { masks, iouPredictions: o.iouPredictions, lowResLogits: o.lowResLogits };
      });
    } finally {
      for (let i = 0; i < requests.length; i++)
        if (requests[i].maskInput && requests[i].maskInput !== inputs[i].maskInput) requests[i].maskInput!.dispose();
    }
  }

  private maskInput(m: PromptInput['maskInput'], i: number): tf.Tensor2D | null {
    if (!m) return null;
    const l = 4 * this.model.gridSize;
    if (m.rank === 3) {
      if (m.shape[0] !== 1 || m.shape[1] !== l || m.shape[2] !== l)
        throw new Error(`input ${i}: maskInput must be [1, ${l}, ${l}] or [${l}, ${l}], got [${m.shape}]`);
      return m.reshape([l, l]) as tf.Tensor2D;
    }
    if (m.shape[0] !== l || m.shape[1] !== l)
      throw new Error(`input ${i}: maskInput must be [${l}, ${l}], got [${m.shape}]`);
    return m as tf.Tensor2D;
  }

  private toModelPrompt(inp: PromptInput, emb: ImageEmbedding, i: number): ModelPrompt {
    const s = this.model.config.imageEncoder.imgSize;
    const prompt: ModelPrompt = {};
    if (inp.pointCoords) {
      const xy = flatten(inp.pointCoords);
      const labels = inp.pointLabels ? Array.from(inp.pointLabels) : null;
      if (!labels) throw new Error(`input ${i}: pointLabels must be supplied with pointCoords`);
      if (xy.length !== 2 * labels.length)
        throw new Error(`input ${i}: ${xy.length / 2} points but ${labels.length} labels`);
      if (xy.some((v) => !Number.isFinite(v))) throw new Error(`input ${i}: pointCoords must be finite numbers`);
      prompt.pointsXY = applyCoords(xy, emb.originalSize, s);
      prompt.pointLabels = Int32Array.from(labels);
    }
    if (inp.box) {
      const box = Array.from(inp.box);
      if (box.length !== 4 || box.some((v) => !Number.isFinite(v)))
        throw new Error(`input ${i}: box must be 4 finite numbers (x0, y0, x1, y1)`);
      prompt.boxXYXY = applyCoords(box, emb.originalSize, s);
    }
    return prompt;
  }
}

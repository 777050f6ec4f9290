/**
 * A frozen SAM: image encoder, prompt encoder and mask decoder built from a config and a state
 * dict with the official names. Weights are validated in full (names and shapes) before any
 * tensor is created, so a bad checkpoint leaves nothing half-loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { SamConfig, embeddingGridSize, validateSamConfig } from '../config';
import { ImageEncoder, ImageEncoderOptions } from './image-encoder';
import { DecoderIntermediates, DecoderOutput, MaskDecoder } from './mask-decoder';
import { ImageEmbedding } from '../image-embedding';
import { ParamStore, WeightSource } from '../weights/params';
import { ModelPrompt, PromptEncoder } from './prompt-encoder';
import { samWeightSpecs } from '../weights/weight-spec';
import { planSamMemory, type SamMemoryPlan } from '../memory-plan';

export interface SamMemoryOptions {
  /**
   * The backend heap's size in bytes, for engines that grant less than the wasm32 maximum (4 GiB,
   * the default on wasm; no limit elsewhere): a model that would not fit beside the tensors already
   * held is refused before anything is uploaded.
   */
  heapLimit?: number;
}

/** One prompt set to decode against a cached image embedding. */
export interface DecodeRequest {
  embedding: ImageEmbedding;
  /** Points and box in the model's input frame (see `applyCoords`). */
  prompt: ModelPrompt;
  /** Optional dense prompt: mask logits [4E, 4E], e.g. a previous `lowResLogits` row. */
  maskInput?: tf.Tensor2D | null;
  multimaskOutput: boolean;
}

export class SamModel {
  readonly imageEncoder: ImageEncoder;
  readonly promptEncoder: PromptEncoder;
  readonly maskDecoder: MaskDecoder;
  readonly gridSize: number;
  /** Dense positional encoding flattened to [HW, D]. */
  readonly densePeFlat: tf.Tensor2D;
  private readonly params: ParamStore;
  private disposed = false;

  private constructor(
    readonly config: SamConfig,
    weights: WeightSource,
    /** Identifies the weights (e.g. a content hash) for caches keyed by model. */
    readonly weightsId: string,
    variables: Map<string, tf.Variable> | null = null,
    /** The backend memory the model was planned to need (inference models only). */
    readonly memoryPlan: SamMemoryPlan | null = null,
  ) {
    this.params = new ParamStore(weights, variables);
    try {
      this.gridSize = embeddingGridSize(config);
      const encoderOptions: ImageEncoderOptions = { packWeights: memoryPlan?.weightForm === 'packed' };
      this.imageEncoder = new ImageEncoder(config.imageEncoder, this.params, 'image_encoder', encoderOptions);
      this.promptEncoder = new PromptEncoder(
        config.promptEncoder,
        config.imageEncoder.imgSize,
        this.gridSize,
        this.params,
      );
      this.maskDecoder = new MaskDecoder(config.maskDecoder, this.params);
      const d = config.maskDecoder.transformerDim;
      this.densePeFlat = this.params.own(() =>
        this.promptEncoder.densePe.reshape([this.gridSize * this.gridSize, d]),
      ) as tf.Tensor2D;
    } catch (err) {
      this.params.dispose();
      throw err;
    } finally {
      // Every tensor is made: the model no longer holds the caller's arrays.
      this.params.releaseRaw();
    }
  }

  /**
   * Build a model from official-name weights. Every expected tensor must be present with the
   * expected shape; extra tensors are an error too (they usually mean a different architecture).
   * A model the backend's memory cannot hold (see memory-plan.ts) is refused before either check.
   */
  static fromWeights(
    config: SamConfig,
    weights: WeightSource,
    options: { weightsId?: string; source?: string; allowExtra?: boolean } & SamMemoryOptions = {},
  ): SamModel {
    validateSamConfig(config);
    const plan = planSamMemory(config, { heapLimit: options.heapLimit });
    const source = options.source ? `${options.source}: ` : '';
    const specs = samWeightSpecs(config);
    const problems: string[] = [];
    const expected = new Set<string>();
    for (const spec of specs) {
      expected.add(spec.name);
      const w = weights.get(spec.name);
      if (!w) {
        problems.push(`missing tensor '${spec.name}' (expected shape [${spec.shape}])`);
        continue;
      }
      if (w.shape.length !== spec.shape.length || w.shape.some((s, i) => s !== spec.shape[i])) {
        problems.push(`tensor '${spec.name}' has shape [${w.shape}], expected [${spec.shape}]`);
      } else if (w.data.length !== spec.shape.reduce((a, b) => a * b, 1)) {
        problems.push(`tensor '${spec.name}' holds ${w.data.length} values for shape [${spec.shape}]`);
      } else {
        // One NaN or Inf weight turns every mask into NaN (IoU 0) and poisons the embedding cache.
        const bad = firstNonFinite(w.data);
        if (bad >= 0)
          problems.push(`tensor '${spec.name}' holds ${w.data[bad]} at element ${bad} (weights must be finite)`);
      }
    }
    if (!options.allowExtra) {
      for (const name of weights.keys()) if (!expected.has(name)) problems.push(`unexpected tensor '${name}'`);
    }
    if (problems.length > 0) {
      const shown = problems.slice(0, 12).join('; ');
      const more = problems.length > 12 ? ` (and ${problems.length - 12} more)` : '';
      throw new Error(`${source}checkpoint does not match SAM config '${config.name}': ${shown}${more}`);
    }
    return new SamModel(config, weights, options.weightsId ?? 'unnamed', null, plan);
  }

  /**
   * A differentiable view of the model over trainable variables (PyTorch layouts, official names;
   * see `samVariables`). Build it INSIDE the function whose gradient you take, so that the
   * derived layouts are part of the recorded computation, and dispose it after the step.
   */
  static fromVariables(config: SamConfig, variables: Map<string, tf.Variable>): SamModel {
    validateSamConfig(config);
    for (const spec of samWeightSpecs(config)) {
      const v = variables.get(spec.name);
      if (!v || v.shape.join() !== spec.shape.join())
        throw new Error(`SAM variables: '${spec.name}' must be [${spec.shape}], got ${v ? `[${v.shape}]` : 'nothing'}`);
    }
    return new SamModel(config, new Map(), 'training', variables);
  }

  get differentiable(): boolean {
    return this.params.differentiable;
  }

  /** Encode a preprocessed input [S, S, 3] into the image embedding [E, E, D] (channels-last). */
  encodeImage(input: tf.Tensor3D): tf.Tensor3D {
    this.assertAlive();
    return this.imageEncoder.forward(input);
  }

  /**
   * Decode many prompt sets, for one image or several, in one call. Prompt encoding is batched
   * over requests with the same number of tokens; layer-0 image projections are shared through
   * each embedding's cache when no mask input is given. Returns one output per request, in order;
   * the caller owns (and disposes) the returned tensors.
   */
  decode(requests: DecodeRequest[], intermediates?: (index: number, x: DecoderIntermediates) => void): DecoderOutput[] {
    this.assertAlive();
    const outputs: DecoderOutput[] = new Array(requests.length);
    const groups = new Map<number, number[]>();
    requests.forEach((r, i) => {
      const t = PromptEncoder.numSparseTokens(r.prompt);
      if (!groups.has(t)) groups.set(t, []);
      groups.get(t)!.push(i);
    });
    for (const indices of groups.values()) {
      const sparse = this.promptEncoder.embedSparse(indices.map((i) => requests[i].prompt));
      try {
        indices.forEach((reqIndex, row) => {
          const req = requests[reqIndex];
          outputs[reqIndex] = tf.tidy((): tf.TensorContainer => {
            const tokens = sparse.slice([row, 0, 0], [1, sparse.shape[1], sparse.shape[2]]).squeeze([0]) as tf.Tensor2D;
            const keys = this.decoderKeys(req);
            const out = this.maskDecoder.decode(
              tokens,
              keys,
              this.densePeFlat,
              this.gridSize,
              req.multimaskOutput,
              intermediates && ((x) => intermediates(reqIndex, x)),
            );
            return { lowResLogits: out.lowResLogits, iouPredictions: out.iouPredictions };
          }) as unknown as DecoderOutput;
        });
      } finally {
        sparse.dispose();
      }
    }
    return outputs;
  }

  /** Sparse prompt embeddings [T, D] of one prompt set (for inspection and parity checks). */
  sparseEmbeddings(prompt: ModelPrompt): tf.Tensor2D {
    return tf.tidy(() => this.promptEncoder.embedSparse([prompt]).squeeze([0]) as tf.Tensor2D);
  }

  /** Dense prompt embedding [E, E, D]: the mask input's embedding, or no_mask_embed broadcast. */
  denseEmbedding(maskInput?: tf.Tensor2D | null): tf.Tensor3D {
    return tf.tidy(() => {
      const d = this.config.maskDecoder.transformerDim;
      if (maskInput)
        return this.promptEncoder.embedMasks(maskInput.expandDims(0) as tf.Tensor3D).squeeze([0]) as tf.Tensor3D;
      return tf.broadcastTo(this.promptEncoder.noMaskEmbed, [this.gridSize, this.gridSize, d]) as tf.Tensor3D;
    });
  }

  private decoderKeys(req: DecodeRequest) {
    const e = this.gridSize;
    const d = this.config.maskDecoder.transformerDim;
    const flat = () => req.embedding.embedding.reshape([e * e, d]);
    if (this.params.differentiable) {
      // Training: no per-image cache (it would outlive the step's tensors).
      return tf.tidy(
        () =>
          (req.maskInput
            ? flat().add(this.denseEmbedding(req.maskInput).reshape([e * e, d]))
            : flat().add(this.promptEncoder.noMaskEmbed)) as tf.Tensor2D,
      );
    }
    if (req.maskInput) {
      const l = 4 * e;
      if (req.maskInput.shape[0] !== l || req.maskInput.shape[1] !== l) {
        throw new Error(`mask input must be [${l}, ${l}] logits, got [${req.maskInput.shape}]`);
      }
      return flat().add(this.denseEmbedding(req.maskInput).reshape([e * e, d])) as tf.Tensor2D;
    }
    return req.embedding.getKeysCache(() => {
      const keys0 = tf.tidy(() => flat().add(this.promptEncoder.noMaskEmbed) as tf.Tensor2D);
      try {
        return this.maskDecoder.buildKeysCache(keys0, this.densePeFlat);
      } finally {
        keys0.dispose();
      }
    });
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('SamModel was disposed');
  }

  dispose(): void {
    if (!this.disposed) {
      this.params.dispose();
      this.disposed = true;
    }
  }
}

/** Index of the first NaN or infinite value, or -1. */
function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for every finite v and NaN for NaN and +-Infinity; cheaper than Number.isFinite per element.
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * SAM's prompt encoder (segment_anything/modeling/prompt_encoder.py): random-Fourier positional
 * encoding of points and box corners, learned per-label embeddings, and the convolutional
 * downscaling of a dense mask prompt. Channels-last throughout.
 */
import * as tf from '@tensorflow/tfjs';
import { PromptEncoderConfig } from './config';
import { gelu, layerNorm } from './ops';
import { NormParams, ParamStore } from './params';

/** One prompt set in the model's input frame (after ResizeLongestSide), before the +0.5 shift. */
export interface ModelPrompt {
  /** [N, 2] as (x, y) in input-frame pixels, flattened. */
  pointsXY?: Float32Array | number[];
  /** [N]: 1 foreground, 0 background, -1 padding (not a point). */
  pointLabels?: Int32Array | number[];
  /** (x0, y0, x1, y1) in input-frame pixels. */
  boxXYXY?: Float32Array | number[];
}

export class PromptEncoder {
  readonly embedDim: number;
  private readonly gaussian: tf.Tensor2D;
  /** point_embeddings[0..3] and not_a_point_embed, each [D]. */
  private readonly pointEmbeds: Float32Array[];
  private readonly notAPoint: Float32Array;
  readonly noMaskEmbed: tf.Tensor1D;
  private readonly maskConv1: tf.Tensor4D;
  private readonly maskBias1: tf.Tensor1D;
  private readonly maskNorm1: NormParams;
  private readonly maskConv2: tf.Tensor4D;
  private readonly maskBias2: tf.Tensor1D;
  private readonly maskNorm2: NormParams;
  private readonly maskConv3: tf.Tensor4D;
  private readonly maskBias3: tf.Tensor1D;
  /** get_dense_pe(): [E, E, D]. */
  readonly densePe: tf.Tensor3D;
  private readonly layerNormEps = 1e-6;

  constructor(
    readonly config: PromptEncoderConfig,
    /** Encoder input size (square, padded). */
    readonly inputSize: number,
    /** Embedding grid size E. */
    readonly gridSize: number,
    params: ParamStore,
    prefix = 'prompt_encoder',
  ) {
    this.embedDim = config.embedDim;
    this.gaussian = params.tensor(`${prefix}.pe_layer.positional_encoding_gaussian_matrix`) as tf.Tensor2D;
    const vec = (name: string) => params.temp(name).dataSync() as Float32Array;
    this.pointEmbeds = [0, 1, 2, 3].map((i) => Float32Array.from(vec(`${prefix}.point_embeddings.${i}.weight`)));
    this.notAPoint = Float32Array.from(vec(`${prefix}.not_a_point_embed.weight`));
    this.noMaskEmbed = params.own(() => params.temp(`${prefix}.no_mask_embed.weight`).reshape([config.embedDim])) as tf.Tensor1D;
    this.maskConv1 = params.convFilter(`${prefix}.mask_downscaling.0.weight`);
    this.maskBias1 = params.tensor(`${prefix}.mask_downscaling.0.bias`) as tf.Tensor1D;
    this.maskNorm1 = params.norm(`${prefix}.mask_downscaling.1`);
    this.maskConv2 = params.convFilter(`${prefix}.mask_downscaling.3.weight`);
    this.maskBias2 = params.tensor(`${prefix}.mask_downscaling.3.bias`) as tf.Tensor1D;
    this.maskNorm2 = params.norm(`${prefix}.mask_downscaling.4`);
    this.maskConv3 = params.convFilter(`${prefix}.mask_downscaling.6.weight`);
    this.maskBias3 = params.tensor(`${prefix}.mask_downscaling.6.bias`) as tf.Tensor1D;
    this.densePe = params.own(() => {
      const e = gridSize;
      const coords = new Float32Array(e * e * 2);
      for (let y = 0; y < e; y++) {
        for (let x = 0; x < e; x++) {
          coords[(y * e + x) * 2] = (x + 0.5) / e;
          coords[(y * e + x) * 2 + 1] = (y + 0.5) / e;
        }
      }
      return this.fourier(tf.tensor2d(coords, [e * e, 2])).reshape([e, e, config.embedDim]) as tf.Tensor3D;
    });
  }

  /** [N, 2] coordinates normalised to [0, 1] -> [N, D]: [sin, cos] of 2*pi*(2c - 1) @ G. */
  private fourier(coords01: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const projected = tf.matMul(coords01.mul(2).sub(1) as tf.Tensor2D, this.gaussian).mul(2 * Math.PI);
      return tf.concat([tf.sin(projected), tf.cos(projected)], 1) as tf.Tensor2D;
    });
  }

  /** Number of sparse tokens a prompt produces (points, +1 padding point when there is no box, +2 box corners). */
  static numSparseTokens(prompt: ModelPrompt): number {
    const n = prompt.pointsXY ? prompt.pointsXY.length / 2 : 0;
    const hasBox = !!prompt.boxXYXY;
    return n + (n > 0 && !hasBox ? 1 : 0) + (hasBox ? 2 : 0);
  }

  /**
   * Sparse embeddings for a batch of prompt sets that produce the same number of tokens: [B, T, D].
   */
  embedSparse(prompts: ModelPrompt[]): tf.Tensor3D {
    const t = PromptEncoder.numSparseTokens(prompts[0]);
    for (const p of prompts) {
      if (PromptEncoder.numSparseTokens(p) !== t) throw new Error('embedSparse: prompt sets in a batch must have the same number of tokens');
    }
    const d = this.embedDim;
    const b = prompts.length;
    if (t === 0) return tf.zeros([b, 0, d]) as tf.Tensor3D;
    // Coordinates (+0.5 pixel centre, normalised by the input size) and the additive embedding of each token.
    const coords = new Float32Array(b * t * 2);
    const additive = new Float32Array(b * t * d);
    const zeroPe = new Uint8Array(b * t);
    prompts.forEach((p, bi) => {
      let tok = 0;
      const put = (x: number, y: number, embed: Float32Array, isPadding: boolean) => {
        const i = bi * t + tok;
        coords[i * 2] = (x + 0.5) / this.inputSize;
        coords[i * 2 + 1] = (y + 0.5) / this.inputSize;
        additive.set(embed, i * d);
        zeroPe[i] = isPadding ? 1 : 0;
        tok++;
      };
      const n = p.pointsXY ? p.pointsXY.length / 2 : 0;
      for (let j = 0; j < n; j++) {
        const label = p.pointLabels![j];
        const embed = label === -1 ? this.notAPoint : label === 0 ? this.pointEmbeds[0] : label === 1 ? this.pointEmbeds[1] : null;
        if (!embed) throw new Error(`point label must be 1, 0 or -1, got ${label}`);
        put(p.pointsXY![2 * j], p.pointsXY![2 * j + 1], embed, label === -1);
      }
      if (n > 0 && !p.boxXYXY) put(0 - 0.5, 0 - 0.5, this.notAPoint, true);
      if (p.boxXYXY) {
        const bx = p.boxXYXY;
        put(bx[0], bx[1], this.pointEmbeds[2], false);
        put(bx[2], bx[3], this.pointEmbeds[3], false);
      }
    });
    return tf.tidy(() => {
      const pe = this.fourier(tf.tensor2d(coords, [b * t, 2]));
      const keep = tf.tensor2d(Float32Array.from(zeroPe, (z) => 1 - z), [b * t, 1]);
      return pe.mul(keep).add(tf.tensor2d(additive, [b * t, d])).reshape([b, t, d]) as tf.Tensor3D;
    });
  }

  /** Dense embedding of mask-logit inputs [B, 4E, 4E] -> [B, E, E, D]. */
  embedMasks(masks: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const eps = this.layerNormEps;
      let x: tf.Tensor = masks.expandDims(3);
      x = tf.conv2d(x as tf.Tensor4D, this.maskConv1, 2, 'valid').add(this.maskBias1);
      x = gelu(layerNorm(x, this.maskNorm1.gamma, this.maskNorm1.beta, eps));
      x = tf.conv2d(x as tf.Tensor4D, this.maskConv2, 2, 'valid').add(this.maskBias2);
      x = gelu(layerNorm(x, this.maskNorm2.gamma, this.maskNorm2.beta, eps));
      return tf.conv2d(x as tf.Tensor4D, this.maskConv3, 1, 'valid').add(this.maskBias3) as tf.Tensor4D;
    });
  }
}

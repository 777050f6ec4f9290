/**
 * SAM's prompt encoder (segment_anything/modeling/prompt_encoder.py): random-Fourier positional
 * encoding of points and box corners, learned per-label embeddings, and the convolutional
 * downscaling of a dense mask prompt. Channels-last throughout.
 */
import * as tf from '@tensorflow/tfjs';
import { PromptEncoderConfig } from '../config';
import { gelu, layerNorm, linear } from './ops';
import { LinearParams, NormParams, ParamStore } from '../weights/params';

/** Row of the not-a-point embedding in the token table. */
const NOT_A_POINT = 4;

/** [B, H, W, C] -> [B, H/2, W/2, 4C] with patch channels ordered (dy, dx, c): a 2x2 stride-2 conv becomes a matMul. */
function spaceToDepth2(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return x
    .reshape([b, h / 2, 2, w / 2, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, h / 2, w / 2, 4 * c]) as tf.Tensor4D;
}

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
  /** Rows: point_embeddings[0..3] (negative, positive, box corner 1, box corner 2), not_a_point_embed. [5, D] */
  private readonly tokenTable: tf.Tensor2D;
  readonly noMaskEmbed: tf.Tensor1D;
  /** The 2x2 stride-2 convolutions as matMuls over space-to-depth patches: [4*Cin, Cout]. */
  private readonly maskConv1: LinearParams;
  private readonly maskNorm1: NormParams;
  private readonly maskConv2: LinearParams;
  private readonly maskNorm2: NormParams;
  private readonly maskConv3: LinearParams;
  /** get_dense_pe(): [E, E, D]. */
  readonly densePe: tf.Tensor3D;
  private readonly layerNormEps = 1e-6;
  /** Built over trainable variables: use only ops with gradients. */
  private readonly differentiable: boolean;

  constructor(
    readonly config: PromptEncoderConfig,
    /** Encoder input size (square, padded). */
    readonly inputSize: number,
    /** Embedding grid size E. */
    readonly gridSize: number,
    params: ParamStore,
    prefix = 'prompt_encoder',
  ) {
    this.differentiable = params.differentiable;
    this.embedDim = config.embedDim;
    this.gaussian = params.tensor(`${prefix}.pe_layer.positional_encoding_gaussian_matrix`) as tf.Tensor2D;
    this.tokenTable = params.own(() =>
      tf.concat(
        [0, 1, 2, 3]
          .map((i) => params.temp(`${prefix}.point_embeddings.${i}.weight`))
          .concat(params.temp(`${prefix}.not_a_point_embed.weight`)),
        0,
      ),
    ) as tf.Tensor2D;
    this.noMaskEmbed = params.own(() =>
      params.temp(`${prefix}.no_mask_embed.weight`).reshape([config.embedDim]),
    ) as tf.Tensor1D;
    const patchConv = (i: number): LinearParams => {
      const w = params.own(() => {
        const t = params.temp(`${prefix}.mask_downscaling.${i}.weight`); // [out, in, kh, kw]
        const [out, inC, kh, kw] = t.shape;
        return t.transpose([2, 3, 1, 0]).reshape([kh * kw * inC, out]) as tf.Tensor2D;
      });
      return { w, b: params.tensor(`${prefix}.mask_downscaling.${i}.bias`) as tf.Tensor1D };
    };
    this.maskConv1 = patchConv(0);
    this.maskNorm1 = params.norm(`${prefix}.mask_downscaling.1`);
    this.maskConv2 = patchConv(3);
    this.maskNorm2 = params.norm(`${prefix}.mask_downscaling.4`);
    this.maskConv3 = patchConv(6);
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
      if (PromptEncoder.numSparseTokens(p) !== t)
        throw new Error('embedSparse: prompt sets in a batch must have the same number of tokens');
    }
    const d = this.embedDim;
    const b = prompts.length;
    if (t === 0) return tf.zeros([b, 0, d]) as tf.Tensor3D;
    // Coordinates (+0.5 pixel centre, normalised by the input size) and each token's row of the
    // embedding table (one-hot, so that the table is trainable on wasm).
    const coords = new Float32Array(b * t * 2);
    const onehot = new Float32Array(b * t * 5);
    const keepPe = new Float32Array(b * t);
    prompts.forEach((p, bi) => {
      let tok = 0;
      const put = (x: number, y: number, row: number) => {
        const i = bi * t + tok;
        coords[i * 2] = (x + 0.5) / this.inputSize;
        coords[i * 2 + 1] = (y + 0.5) / this.inputSize;
        onehot[i * 5 + row] = 1;
        keepPe[i] = row === NOT_A_POINT ? 0 : 1;
        tok++;
      };
      const n = p.pointsXY ? p.pointsXY.length / 2 : 0;
      for (let j = 0; j < n; j++) {
        const label = p.pointLabels![j];
        const row = label === -1 ? NOT_A_POINT : label === 0 ? 0 : label === 1 ? 1 : null;
        if (row === null) throw new Error(`point label must be 1, 0 or -1, got ${label}`);
        put(p.pointsXY![2 * j], p.pointsXY![2 * j + 1], row);
      }
      if (n > 0 && !p.boxXYXY) put(-0.5, -0.5, NOT_A_POINT);
      if (p.boxXYXY) {
        const bx = p.boxXYXY;
        put(bx[0], bx[1], 2);
        put(bx[2], bx[3], 3);
      }
    });
    return tf.tidy(() => {
      const pe = this.fourier(tf.tensor2d(coords, [b * t, 2]));
      const rows = tf.matMul(tf.tensor2d(onehot, [b * t, 5]), this.tokenTable);
      return pe
        .mul(tf.tensor2d(keepPe, [b * t, 1]))
        .add(rows)
        .reshape([b, t, d]) as tf.Tensor3D;
    });
  }

  /** Dense embedding of mask-logit inputs [B, 4E, 4E] -> [B, E, E, D]. */
  embedMasks(masks: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const eps = this.layerNormEps;
      let x: tf.Tensor = masks.expandDims(3);
      x = linear(spaceToDepth2(x as tf.Tensor4D), this.maskConv1.w, this.maskConv1.b);
      const d = this.differentiable;
      x = gelu(layerNorm(x, this.maskNorm1.gamma, this.maskNorm1.beta, eps, d), d);
      x = linear(spaceToDepth2(x as tf.Tensor4D), this.maskConv2.w, this.maskConv2.b);
      x = gelu(layerNorm(x, this.maskNorm2.gamma, this.maskNorm2.beta, eps, d), d);
      return linear(x, this.maskConv3.w, this.maskConv3.b) as tf.Tensor4D;
    });
  }
}

/**
 * SAM's mask decoder (segment_anything/modeling/mask_decoder.py): output tokens (IoU token and
 * mask tokens) plus the prompt tokens go through the two-way transformer; the image side is
 * upscaled 4x by two 2x2 transposed convolutions, and per-mask hypernetwork MLPs turn the mask
 * tokens into dynamic 1x1 filters. Multimask output returns masks 1..3, single output mask 0.
 *
 * The transposed convolutions are matMuls kept in sub-pixel layout ([E, E, dy1, dx1, dy2, dx2, C]),
 * so the hypernetwork product runs before any rearrangement and only the few output masks are
 * rearranged. How the GELUs and the first upscaling product are rewritten: docs/sam-on-wasm.md;
 * the decoder as the reference writes it: reference/mask-decoder.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { MaskDecoderConfig } from '../config';
import { layerNorm, linear, convTranspose2x2Weights, mlp } from './ops';
import { scaledGeluKernel } from '../../tfjs-ops/gelu';
import { gemmKernel } from '../../tfjs-ops/gemm';
import { layerNormKernel } from '../../tfjs-ops/layer-norm';
import { LinearParams, NormParams, ParamStore } from '../weights/params';
import { ImageKeysCache, TwoWayTransformer } from './two-way-transformer';
import { UpscaleLowRankWeights, buildUpscaleLowRankWeights, upscaleBase, upscaleLowRank } from './upscale-low-rank';

export interface DecoderOutput {
  /** [M, 4E, 4E] mask logits at the low (decoder) resolution. */
  lowResLogits: tf.Tensor3D;
  /** [M] predicted IoU per mask. */
  iouPredictions: tf.Tensor1D;
}

export interface DecoderIntermediates {
  /** [Tq, D] after norm_final_attn. */
  transformerQueries: tf.Tensor2D;
  /** [HW, D]. */
  transformerKeys: tf.Tensor2D;
  /** [4E, 4E, D/8] channels-last. */
  upscaledEmbedding: tf.Tensor3D;
}

/** sqrt2 * GELU(sqrt2 * z) = z + z * erf(z): the exact GELU of y = sqrt2 * z, times sqrt2. */
function scaledGelu(z: tf.Tensor, differentiable: boolean): tf.Tensor {
  return scaledGeluKernel(z, differentiable) ?? z.add(z.mul(tf.erf(z)));
}

/**
 * [E*E*16, M] rows ordered (ey, ex, dy1, dx1, dy2, dx2) -> [M, 4E, 4E] with y = 4ey + 2dy1 + dy2,
 * x = 4ex + 2dx1 + dx2. A rank-7 transpose with a size-2 inner axis runs element by element on the
 * CPU backends (~20 ms for 3 masks on wasm), so there the few values are moved in a JS loop.
 */
function subpixelToMasks(x: tf.Tensor2D, e: number, differentiable: boolean): tf.Tensor3D {
  const m = x.shape[1];
  const backend = tf.getBackend();
  if (differentiable || (backend !== 'wasm' && backend !== 'cpu')) {
    // Two steps of rank <= 6 (WebGL has no rank-7 transpose): the mask axis to the front, then
    // (ey, ex, dy1, dx1, dy2, dx2) -> (ey, dy1, dy2, ex, dx1, dx2) with ey merged into it.
    return x
      .transpose()
      .reshape([m * e, e, 2, 2, 2, 2])
      .transpose([0, 2, 4, 1, 3, 5])
      .reshape([m, 4 * e, 4 * e]) as tf.Tensor3D;
  }
  const src = x.dataSync();
  const side = 4 * e;
  const out = new Float32Array(m * side * side);
  let i = 0;
  for (let ey = 0; ey < e; ey++) {
    for (let ex = 0; ex < e; ex++) {
      for (let dy1 = 0; dy1 < 2; dy1++) {
        for (let dx1 = 0; dx1 < 2; dx1++) {
          for (let dy2 = 0; dy2 < 2; dy2++) {
            const row = (4 * ey + 2 * dy1 + dy2) * side + 4 * ex + 2 * dx1;
            for (let dx2 = 0; dx2 < 2; dx2++) {
              for (let k = 0; k < m; k++) out[k * side * side + row + dx2] = src[i++];
            }
          }
        }
      }
    }
  }
  return tf.tensor3d(out, [m, side, side]);
}

export class MaskDecoder {
  readonly transformer: TwoWayTransformer;
  readonly numMaskTokens: number;
  private readonly outputTokens: tf.Tensor2D;
  private readonly up1: { w: tf.Tensor2D; b: tf.Tensor1D };
  private readonly upNorm: NormParams;
  private readonly up2: { w: tf.Tensor2D; b: tf.Tensor1D };
  private readonly hyper: LinearParams[][];
  private readonly iouHead: LinearParams[];
  private readonly differentiable: boolean;
  /** For the first upscaling product without a [HW, D] x [D, D] matMul (inference only). */
  private readonly lowRank: UpscaleLowRankWeights | null;

  constructor(
    readonly config: MaskDecoderConfig,
    params: ParamStore,
    prefix = 'mask_decoder',
  ) {
    this.differentiable = params.differentiable;
    this.transformer = new TwoWayTransformer(config.transformer, params, `${prefix}.transformer`);
    this.numMaskTokens = config.numMultimaskOutputs + 1;
    this.outputTokens = params.own(() =>
      tf.concat([params.temp(`${prefix}.iou_token.weight`), params.temp(`${prefix}.mask_tokens.weight`)], 0),
    ) as tf.Tensor2D;
    const upscale = (i: number) => {
      const weights = () =>
        convTranspose2x2Weights(
          params.temp(`${prefix}.output_upscaling.${i}.weight`) as tf.Tensor4D,
          params.temp(`${prefix}.output_upscaling.${i}.bias`) as tf.Tensor1D,
        );
      return { w: params.own(() => weights().w), b: params.own(() => weights().b) };
    };
    this.up1 = upscale(0);
    this.upNorm = params.norm(`${prefix}.output_upscaling.1`);
    this.up2 = upscale(3);
    this.hyper = Array.from({ length: this.numMaskTokens }, (_, i) =>
      params.mlp(`${prefix}.output_hypernetworks_mlps.${i}`, 3),
    );
    this.iouHead = params.mlp(`${prefix}.iou_prediction_head`, config.iouHeadDepth);
    if (this.differentiable) {
      this.lowRank = null;
    } else {
      const w = buildUpscaleLowRankWeights(this.up1.w, this.up1.b, this.transformer.imageSideNorms());
      const keep = <T extends tf.Tensor>(ts: T[]) => ts.map((t) => params.own(() => t) as T);
      this.lowRank = { a: keep(w.a), c: keep(w.c), s: keep(w.s), d: keep(w.d) };
    }
  }

  /** The per-image part of decoding without a mask input: layer-0 projections, upscaling base. */
  buildKeysCache(keys: tf.Tensor2D, pe: tf.Tensor2D): ImageKeysCache {
    const cache = this.transformer.buildKeysCache(keys, pe);
    if (this.lowRank) cache.upscaleBase = tf.tidy(() => upscaleBase(keys, this.lowRank!));
    return cache;
  }

  /**
   * Decode one prompt set. `sparse` [T, D]; `keys` is the image embedding plus the dense prompt
   * [HW, D] or the per-image layer-0 cache; `pe` the dense positional encoding [HW, D].
   */
  decode(
    sparse: tf.Tensor2D,
    keys: tf.Tensor2D | ImageKeysCache,
    pe: tf.Tensor2D,
    gridSize: number,
    multimaskOutput: boolean,
    intermediates?: (x: DecoderIntermediates) => void,
  ): DecoderOutput {
    return tf.tidy((): tf.TensorContainer => {
      const dim = this.config.transformerDim;
      const tokens = tf.concat([this.outputTokens, sparse], 0) as tf.Tensor2D;
      // Heads read the IoU and mask tokens only; all rows when intermediates are inspected.
      const {
        queries,
        keys: src,
        imageSide,
      } = this.transformer.forward(tokens, keys, pe, intermediates ? undefined : this.numMaskTokens + 1);
      const base = keys instanceof tf.Tensor ? undefined : keys.upscaleBase;
      // The low-rank form costs sum_l HW x (h*T_l) x D' against HW x D x D' for the direct product:
      // a gain while the layers' h*T add up to less than D (fewer than ~10 clicks for SAM).
      const lowRankWidth = imageSide ? imageSide.reduce((w, t) => w + t.probs.shape[1], 0) : Infinity;
      const up1 =
        imageSide && base && this.lowRank && lowRankWidth < dim ? upscaleLowRank(base, imageSide, this.lowRank) : null;
      const first = multimaskOutput ? 1 : 0;
      const count = multimaskOutput ? this.numMaskTokens - 1 : 1;

      // Upscaling in sub-pixel layout: [E*E, D] -> [E*E, 2*2, D/4] -> [E*E, 2*2, 2*2, D/8].
      // Each GELU's two 1/sqrt2 factors move into the affine maps around it (two elementwise
      // passes instead of four; docs/sam-on-wasm.md), so `up` holds sqrt2 * GELU(.) below.
      const e = gridSize;
      const s = Math.SQRT1_2;
      let up = (up1 ?? linear(src, this.up1.w, this.up1.b)).reshape([e * e * 4, dim / 4]);
      const d = this.differentiable;
      const gamma = this.upNorm.gamma.mul(s) as tf.Tensor1D;
      const beta = this.upNorm.beta.mul(s) as tf.Tensor1D;
      up =
        layerNormKernel(up, gamma, beta, 1e-6, d, 'scaled-gelu') ?? scaledGelu(layerNorm(up, gamma, beta, 1e-6, d), d);
      const w2 = this.up2.w.mul(0.5) as tf.Tensor2D;
      const b2 = this.up2.b.mul(s) as tf.Tensor1D;
      up = scaledGelu(gemmKernel(up as tf.Tensor2D, w2, b2, d) ?? linear(up, w2, b2), d).reshape([e * e * 16, dim / 8]);

      // Hypernetwork filters for the masks we return: [count, D/8].
      const filters: tf.Tensor[] = [];
      for (let m = first; m < first + count; m++) filters.push(mlp(queries.slice([1 + m, 0], [1, dim]), this.hyper[m]));
      const filterMat = tf.concat(filters, 0).transpose().mul(s); // [D/8, count], with the last GELU's 1/sqrt2
      const lowResLogits = subpixelToMasks(
        tf.matMul(up as tf.Tensor2D, filterMat as tf.Tensor2D),
        e,
        this.differentiable,
      );

      const iou = mlp(queries.slice([0, 0], [1, dim]), this.iouHead);
      const iouPredictions = iou.reshape([this.numMaskTokens]).slice([first], [count]) as tf.Tensor1D;

      if (intermediates) {
        const c8 = dim / 8;
        const upscaledEmbedding = up
          .mul(s)
          // dx2 and the channels stay together: a rank-6 transpose (WebGL's limit).
          .reshape([e, e, 2, 2, 2, 2 * c8])
          .transpose([0, 2, 4, 1, 3, 5])
          .reshape([4 * e, 4 * e, c8]) as tf.Tensor3D;
        intermediates({
          transformerQueries: tf.keep(queries),
          transformerKeys: tf.keep(src),
          upscaledEmbedding: tf.keep(upscaledEmbedding),
        });
      }
      return { lowResLogits, iouPredictions };
    }) as unknown as DecoderOutput;
  }
}
